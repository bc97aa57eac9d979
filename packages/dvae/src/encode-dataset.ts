import type { ImageCaptionDataset } from '@tessera/datasets'
import { tidy } from '@tessera/tensor-core'
import type { DiscreteVAE, EncodeOptions } from './dvae.js'
import { DvaeInputError } from './errors.js'

export interface EncodeDatasetOptions extends EncodeOptions {
  /** Images uploaded per pass (default 64): the host copy of a whole dataset can be far larger than the device takes at once. */
  batchSize?: number
  /** Called after each batch with the images encoded so far. */
  onProgress?: (done: number, total: number) => void
}

/**
 * Every image of a dataset → its tokens, i32 [length, h·w] row-major on the host: what a prior
 * trains on, computed once (a dVAE pass costs far more than a prior step). Images go up in
 * batches and each batch's tokens are read back before the next, so memory stays one batch deep.
 */
export async function encodeDataset(model: DiscreteVAE, dataset: Pick<ImageCaptionDataset, 'images' | 'imageSize' | 'length'>, opts: EncodeDatasetOptions = {}): Promise<Int32Array> {
  const { imageSize, length } = dataset
  if (imageSize !== model.config.imageSize) {
    throw new DvaeInputError(`the dataset's images are ${imageSize} px, the dVAE encodes ${model.config.imageSize} px: load the data at the model's size`)
  }
  const batchSize = opts.batchSize ?? 64
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DvaeInputError(`batchSize must be a positive integer, got ${batchSize}`)
  const perImage = model.config.channels * imageSize * imageSize
  const perTokens = model.gridSize * model.gridSize
  const tokens = new Int32Array(length * perTokens)
  for (let start = 0; start < length; start += batchSize) {
    const n = Math.min(batchSize, length - start)
    const pixels = dataset.images.subarray(start * perImage, (start + n) * perImage)
    const t = tidy(() => model.encode(model.device.tensor(pixels, [n, model.config.channels, imageSize, imageSize]), { search: opts.search }))
    try {
      tokens.set((await t.read()) as Int32Array, start * perTokens)
    } finally {
      t.dispose()
    }
    opts.onProgress?.(start + n, length)
  }
  return tokens
}
