export { DatasetError, ImageFormatError, ImageTooLargeError, ImageTruncatedError } from './errors.js'
export { TesseraError, isTesseraError, TESSERA_ERROR_BRAND, type TesseraErrorOptions } from '@tessera/errors'
export type { RgbaImage, ImagePlanes } from './image/types.js'
export { rgbaToPlanes, planesToRgba, stackPlanes, unstackPlanes } from './image/convert.js'
export { resizePlanes, centerCropPlanes, fitSquare } from './image/resize.js'
export { fitImage } from './image/fit.js'
export { decodePng, encodePng, readPngHeader, DEFAULT_MAX_PIXELS, type DecodePngOptions, type PngHeader } from './image/png.js'
export { gatherBatch, imageAt, type Batch, type ImageCaptionDataset } from './dataset.js'
export { EpochSampler, type SamplerState } from './sampler.js'
export { Mulberry32, fnv1a } from './random.js'
export {
  SHAPE_KINDS,
  SHAPE_COLOUR_NAMES,
  SHAPE_COLOURS,
  SHAPE_SIZES,
  SHAPE_SIZE_RANGES,
  SIZE_CLASS_BOUNDARY,
  SHAPE_RELATIONS,
  type ShapeKind,
  type ShapeColour,
  type ShapeSize,
  type ShapeRelation,
} from './shapes/vocabulary.js'
export { formatShapesCaption, parseShapesCaption, ShapesCaptionError, type ShapeDescription, type ShapesCaption } from './shapes/grammar.js'
export { relationBetween, GENERATED_MAX_CROSS_RATIO, CHECKED_MAX_CROSS_RATIO, type Point } from './shapes/relation.js'
export { LAYOUT_MARGIN, LAYOUT_GAP } from './shapes/layout.js'
export type { Box, PlacedShape, ShapesScene } from './shapes/scene.js'
export { HELD_OUT_COLOUR_KINDS, HELD_OUT_ARRANGEMENTS, heldOutCombinations, shapesSplitOf } from './shapes/split.js'
export { sampleShapesScenes, type ShapesSceneOptions, type SizeWords } from './shapes/scenes.js'
export { enumerateShapesCaptions, type ShapesCaptionSetOptions } from './shapes/enumerate.js'
export { renderShapes, type DrawableShape } from './shapes/render.js'
export { makeShapesDataset, type ShapesOptions, type ShapesDataset } from './shapes/dataset.js'
export { checkShapesImage, type ShapesCheckOptions, type ShapesCheck, type DetectedShape } from './shapes/checker.js'
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
