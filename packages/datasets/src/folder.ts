import type { ImageCaptionDataset } from './dataset.js'
import { DatasetError, ImageFormatError } from './errors.js'
import { fitImage } from './image/fit.js'
import { decodePng } from './image/png.js'
import { checkSplit, inSplit, type DatasetSplit } from './split.js'

export interface ImageFolderOptions {
  /** Side of the square images the model sees (default 32). */
  imageSize?: number
  split?: DatasetSplit
  /** Fraction of files held out, chosen by a hash of their path inside the folder (default 0.1). */
  heldOutFraction?: number
}

export interface ImageFolderDataset extends ImageCaptionDataset {
  /** Paths inside the folder, in dataset order. */
  readonly files: readonly string[]
  /** Images in formats this package does not decode (JPEG, WebP, …), left out. */
  readonly skipped: readonly string[]
}

const OTHER_IMAGE = /\.(jpe?g|webp|gif|bmp|tiff?|avif)$/i

/** `a/red_fox-2.png` → "red fox 2": the caption of an image without a text file. */
function captionFromName(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.png$/i, '')
  return name.replace(/[_\-.]+/g, ' ').trim()
}

/**
 * Your own images as a dataset (Node): every PNG under `dir` (subfolders too), composited
 * over white, resized and centre-cropped to `imageSize` as the models see them. A caption
 * comes from the first non-empty line of a text file beside the image with the same name
 * (`cat.png` + `cat.txt`, as DALLE-pytorch pairs them), else from the file name. The split
 * is stable: it depends only on each file's path inside `dir`.
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const { readdir, readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const imageSize = opts.imageSize ?? 32
  const split = opts.split ?? 'all'
  const fraction = opts.heldOutFraction ?? 0.1
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new DatasetError(`imageSize must be a positive integer, got ${imageSize}`)
  checkSplit(split, fraction)

  let entries: string[]
  try {
    entries = (await readdir(dir, { recursive: true })).map((p) => p.split('\\').join('/')).sort()
  } catch (e) {
    throw new DatasetError(`cannot read the image folder ${dir}: ${(e as Error).message}`)
  }
  const present = new Set(entries)
  const pngs = entries.filter((p) => /\.png$/i.test(p))
  const skipped = entries.filter((p) => OTHER_IMAGE.test(p))
  if (pngs.length === 0) {
    throw new DatasetError(`no PNG images in ${dir}${skipped.length ? ` (${skipped.length} in other formats, e.g. ${skipped[0]}: convert them to PNG)` : ''}`)
  }

  const files = pngs.filter((p) => inSplit(p, split, fraction))
  const size = 3 * imageSize * imageSize
  const images = new Float32Array(files.length * size)
  const captions: string[] = []
  for (const [i, file] of files.entries()) {
    let rgba
    try {
      rgba = await decodePng(await readFile(join(dir, file)))
    } catch (e) {
      throw new ImageFormatError(`${join(dir, file)}: ${(e as Error).message}`)
    }
    images.set(fitImage(rgba, imageSize).data, i * size)
    const sidecar = file.replace(/\.png$/i, '.txt')
    const text = present.has(sidecar) ? (await readFile(join(dir, sidecar), 'utf8')).split('\n').find((line) => line.trim()) : undefined
    captions.push(text?.trim() ?? captionFromName(file))
  }
  return { imageSize, length: files.length, images, captions, files, skipped }
}
