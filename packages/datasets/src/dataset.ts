import { DatasetError } from './errors.js'

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
