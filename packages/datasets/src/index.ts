export { DatasetError, ImageFormatError, ImageTooLargeError, ImageTruncatedError } from './errors.js'
export { TesseraError, isTesseraError, TESSERA_ERROR_BRAND, type TesseraErrorOptions } from './tessera-error.js'
export type { RgbaImage, ImagePlanes } from './image/types.js'
export { rgbaToPlanes, planesToRgba, stackPlanes, unstackPlanes } from './image/convert.js'
export { resizePlanes, centerCropPlanes, fitSquare } from './image/resize.js'
export { fitImage } from './image/fit.js'
export { decodePng, encodePng, readPngHeader, DEFAULT_MAX_PIXELS, type DecodePngOptions, type PngHeader } from './image/png.js'
export { gatherBatch, type Batch, type ImageCaptionDataset } from './dataset.js'
export { EpochSampler, type SamplerState } from './sampler.js'
export { Mulberry32, fnv1a } from './random.js'
export { makeShapesDataset, SHAPE_KINDS, SHAPE_COLOURS, type ShapeKind, type ShapesOptions, type ShapesDataset } from './shapes.js'
export { normaliseHexcode, type EmojiCaption } from './emoji-captions.js'
export {
  loadEmojiDataset,
  EMOJI_VENDORS,
  type EmojiVendor,
  type EmojiSplit,
  type EmojiOptions,
  type EmojiItem,
  type EmojiDataset,
} from './emoji.js'
export { isHeldOut, inSplit, type DatasetSplit } from './split.js'
export { loadImageFolder, type ImageFolderOptions, type ImageFolderDataset, type SkippedImage } from './folder.js'
export { packDataset, unpackDataset, savePackedDataset, loadPackedDataset, type PackedHeader } from './packed.js'
