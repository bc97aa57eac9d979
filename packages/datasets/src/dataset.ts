import { DatasetError } from './errors.js'
import type { ImagePlanes } from './image/types.js'

/** Images ([N, 3, S, S] float in [0, 1], white background) with one caption each. */
export interface ImageCaptionDataset {
  readonly imageSize: number
  readonly length: number
  /** All images, NCHW, row-major. */
  readonly images: Float32Array
  readonly captions: readonly string[]
}

export interface Batch {
  images: Float32Array
  shape: [number, number, number, number]
  captions: string[]
}

/** Copies the images and captions at `indices` into one NCHW batch. */
export function gatherBatch(dataset: ImageCaptionDataset, indices: readonly number[]): Batch {
  const size = 3 * dataset.imageSize * dataset.imageSize
  const images = new Float32Array(indices.length * size)
  const captions: string[] = []
  indices.forEach((index, k) => {
    if (!Number.isInteger(index) || index < 0 || index >= dataset.length) {
      throw new DatasetError(`batch index ${index} is outside the dataset (${dataset.length} items)`)
    }
    images.set(dataset.images.subarray(index * size, (index + 1) * size), k * size)
    captions.push(dataset.captions[index]!)
  })
  return { images, shape: [indices.length, 3, dataset.imageSize, dataset.imageSize], captions }
}

/** Image `index` of the dataset as [3, S, S] planes (a view, not a copy). */
export function imageAt(dataset: ImageCaptionDataset, index: number): ImagePlanes {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.length) throw new DatasetError(`image index ${index} is outside the dataset (${dataset.length} items)`)
  const size = dataset.imageSize
  const n = 3 * size * size
  return { channels: 3, height: size, width: size, data: dataset.images.subarray(index * n, (index + 1) * n) }
}
