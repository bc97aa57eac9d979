import { noGrad, ops, tidy } from '@tessera/tensor-core'
import type { CLIP } from '../clip.js'
import { l2Normalize } from '../clip.js'
import { encodeImagesBatched, encodeTextsBatched } from '../encode.js'

/** Zero-shot retrieval among a set of image/caption pairs (pair i = image i, caption i). */
export interface RetrievalMetrics {
  /** For each image, is its own caption among the k most similar captions? (fraction) */
  imageToTextTop1: number
  imageToTextTop5: number
  /** For each caption, is its own image among the k most similar images? (fraction) */
  textToImageTop1: number
  textToImageTop5: number
  count: number
}

/**
 * Retrieval accuracy from a similarity matrix [N images × N texts] (row-major): the rank of the
 * true partner is the number of candidates scoring strictly higher, so exact ties (two
 * identical captions give identical text features) do not count against it. Two images with
 * the same caption (both vendors' drawings of an emoji) still compete: text→image top-1 is
 * strict per image.
 */
export function retrievalFromSimilarities(sim: ArrayLike<number>, n: number): RetrievalMetrics {
  let i1 = 0
  let i5 = 0
  let t1 = 0
  let t5 = 0
  for (let i = 0; i < n; i++) {
    const own = sim[i * n + i]!
    let above = 0
    for (let j = 0; j < n; j++) if (sim[i * n + j]! > own) above++
    if (above < 1) i1++
    if (above < 5) i5++
    above = 0
    for (let j = 0; j < n; j++) if (sim[j * n + i]! > own) above++
    if (above < 1) t1++
    if (above < 5) t5++
  }
  return { imageToTextTop1: i1 / n, imageToTextTop5: i5 / n, textToImageTop1: t1 / n, textToImageTop5: t5 / n, count: n }
}

/**
 * Encodes normalised images [N, 3, R, R] and token rows [N, L] (host arrays) and measures
 * image→text and text→image top-1/top-5 retrieval among them (cosine similarity).
 */
export async function evaluateRetrieval(model: CLIP, images: Float32Array, tokens: Int32Array): Promise<RetrievalMetrics> {
  const n = tokens.length / model.config.contextLength
  const sim = noGrad(() =>
    tidy(() => {
      const img = l2Normalize(encodeImagesBatched(model, images))
      const txt = l2Normalize(encodeTextsBatched(model, tokens))
      return ops.matmul(img, txt, { transB: true })
    }),
  )
  const values = await sim.read()
  sim.dispose()
  return retrievalFromSimilarities(values, n)
}
