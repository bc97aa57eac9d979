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
  /** PNGs declaring more pixels than this are skipped unread (default 16 Mpixel, as `decodePng`). */
  maxPixels?: number
}

/** A file the folder loader left out, and why. */
export interface SkippedImage {
  /** Path inside the folder. */
  path: string
  /** Why: another format, too large, truncated, unreadable. */
  reason: string
  /** The `code` of the error that made it skip the file (`unsupported_format` for other formats). */
  code: string
}

export interface ImageFolderDataset extends ImageCaptionDataset {
  /** Paths inside the folder, in dataset order. */
  readonly files: readonly string[]
  /**
   * Images left out, with the reason: formats this package does not decode (JPEG, WebP, …) and
   * PNGs it cannot use (over `maxPixels`, cut short, corrupt).
   */
  readonly skipped: readonly SkippedImage[]
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
  const skipped: SkippedImage[] = entries
    .filter((p) => OTHER_IMAGE.test(p))
    .map((path) => ({ path, reason: 'not a PNG (convert it to PNG to use it)', code: 'unsupported_format' }))
  if (pngs.length === 0) {
    throw new DatasetError(`no PNG images in ${dir}${skipped.length ? ` (${skipped.length} in other formats, e.g. ${skipped[0]!.path}: convert them to PNG)` : ''}`)
  }

  const size = 3 * imageSize * imageSize
  const planes: Float32Array[] = []
  const files: string[] = []
  const captions: string[] = []
  for (const file of pngs.filter((p) => inSplit(p, split, fraction))) {
    let rgba
    try {
      rgba = await decodePng(await readFile(join(dir, file)), { maxPixels: opts.maxPixels })
    } catch (e) {
      // A file that is not a usable PNG is left out, with why; anything else (I/O) is not ours to hide.
      if (!(e instanceof ImageFormatError)) throw e
      skipped.push({ path: file, reason: e.message, code: e.code })
      continue
    }
    planes.push(fitImage(rgba, imageSize).data)
    files.push(file)
    const sidecar = file.replace(/\.png$/i, '.txt')
    const text = present.has(sidecar) ? (await readFile(join(dir, sidecar), 'utf8')).split('\n').find((line) => line.trim()) : undefined
    captions.push(text?.trim() ?? captionFromName(file))
  }
  if (files.length === 0 && skipped.some((s) => /\.png$/i.test(s.path))) {
    const bad = skipped.filter((s) => /\.png$/i.test(s.path))
    throw new DatasetError(`no usable PNG images in ${dir}${split === 'all' ? '' : ` (${split} split)`}: ${bad.length} skipped, e.g. ${bad[0]!.path}: ${bad[0]!.reason}`)
  }
  const images = new Float32Array(files.length * size)
  for (const [i, p] of planes.entries()) images.set(p, i * size)
  return { imageSize, length: files.length, images, captions, files, skipped: skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) }
}
