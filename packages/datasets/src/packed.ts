import type { ImageCaptionDataset } from './dataset.js'
import { DatasetError } from './errors.js'

/**
 * A dataset as 8-bit pixels (`<base>.u8`, NCHW) beside a JSON header (`<base>.json`): how
 * the emoji images travel to machines without the npm image packages (a GPU box) and to the
 * PyTorch reference scripts. 8 bits is what the source PNGs hold; the resampled values lose
 * at most 1/510 each. Node-only I/O is imported on use, so the package still loads in browsers.
 */
export interface PackedHeader {
  format: 'tessera-packed-images'
  version: 1
  imageSize: number
  length: number
  captions: string[]
}

export function packDataset(dataset: ImageCaptionDataset): { pixels: Uint8Array; header: PackedHeader } {
  const pixels = new Uint8Array(dataset.images.length)
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, dataset.images[i]!)) * 255)
  return { pixels, header: { format: 'tessera-packed-images', version: 1, imageSize: dataset.imageSize, length: dataset.length, captions: [...dataset.captions] } }
}

export function unpackDataset(pixels: Uint8Array, header: PackedHeader): ImageCaptionDataset {
  if (header?.format !== 'tessera-packed-images' || header.version !== 1) {
    throw new DatasetError(`not a packed image header (format ${JSON.stringify(header?.format)}, version ${JSON.stringify(header?.version)})`)
  }
  const { imageSize, length, captions } = header
  if (!Number.isInteger(imageSize) || imageSize < 1 || !Number.isInteger(length) || length < 0 || captions?.length !== length) {
    throw new DatasetError(`packed header is inconsistent: imageSize ${imageSize}, length ${length}, ${captions?.length} captions`)
  }
  const expected = length * 3 * imageSize * imageSize
  if (pixels.length !== expected) throw new DatasetError(`packed pixels hold ${pixels.length} bytes, the header describes ${expected} (${length} × 3 × ${imageSize}²)`)
  const images = new Float32Array(pixels.length)
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i]! / 255
  return { imageSize, length, images, captions }
}

/** Writes `<base>.u8` and `<base>.json` (Node). */
export async function savePackedDataset(dataset: ImageCaptionDataset, base: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises')
  const { pixels, header } = packDataset(dataset)
  await writeFile(`${base}.u8`, pixels)
  await writeFile(`${base}.json`, JSON.stringify(header))
}

/** Reads what `savePackedDataset` wrote (Node); DatasetError when the two files do not agree. */
export async function loadPackedDataset(base: string): Promise<ImageCaptionDataset> {
  const { readFile } = await import('node:fs/promises')
  let pixels: Uint8Array
  let header: string
  try {
    ;[pixels, header] = await Promise.all([readFile(`${base}.u8`), readFile(`${base}.json`, 'utf8')])
  } catch (e) {
    throw new DatasetError(`cannot read the packed dataset ${base}.u8 + ${base}.json: ${(e as Error).message}`, { cause: e })
  }
  let parsed: PackedHeader
  try {
    parsed = JSON.parse(header) as PackedHeader
  } catch (e) {
    throw new DatasetError(`${base}.json is not JSON: ${(e as Error).message}`)
  }
  return unpackDataset(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength), parsed)
}
