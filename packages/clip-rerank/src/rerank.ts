import { CONTRACT_VERSIONS, type Reranker, type RerankerPlugin } from '@tessera/plugins'
import { noGrad, ops, tidy, type Tensor } from '@tessera/tensor-core'
import { l2Normalize, type CLIP } from './clip.js'
import { encodeImagesBatched, imageBatchLimit } from './encode.js'
import { ClipInputError } from './errors.js'
import { CLIP_MEAN, CLIP_STD, preprocessPixels } from './preprocess.js'
import { tokenRows, type ClipTextTokenizer } from './tokenizer.js'

/** Candidate images: pixels in [0, 1], NCHW RGB, square; on the device or on the host. */
export type RerankImages = Tensor | { data: Float32Array; shape: readonly [number, number, number, number] }

export interface RerankOptions {
  /** How many of the best to return (default: all, best first). */
  keep?: number
  /** Images per image-tower pass (default: as many as fit Device.maxTensorBytes). */
  batchSize?: number
}

export interface RerankResult {
  /** Per candidate, in input order: exp(logit_scale)·cos(image, prompt), OpenAI's logit (100·cos for OpenAI's models). */
  scores: Float32Array
  /** Indices of the `keep` best candidates, best first (ties: the earlier candidate first). */
  indices: number[]
}

/**
 * DALL·E's reranking: scores every candidate image against the prompt with CLIP and returns
 * the scores and the indices of the best `keep`. Images of another size than the model's are
 * resized as OpenAI's preprocessing (bicubic, on the host); the image tower runs in slices
 * that fit the device's limits, so 512 candidates at ViT-B/32 size run in ~3 passes under a
 * 128 MiB binding limit.
 */
export async function clipRerank(clip: CLIP, tokenizer: ClipTextTokenizer, prompt: string, images: RerankImages, opts: RerankOptions = {}): Promise<RerankResult> {
  const shape = 'data' in images ? images.shape : (images.shape as readonly number[])
  if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== shape[3]) throw new ClipInputError(`clipRerank takes RGB square images [N, 3, S, S] in [0, 1], got [${shape.join(', ')}]`)
  const [n, , size] = shape as [number, number, number, number]
  if (n === 0) return { scores: new Float32Array(0), indices: [] }
  const keep = Math.min(n, opts.keep ?? n)
  if (!Number.isInteger(keep) || keep < 0) throw new ClipInputError(`keep must be a non-negative integer, got ${opts.keep}`)
  const r = clip.config.imageResolution
  const batch = Math.max(1, Math.min(opts.batchSize ?? Infinity, imageBatchLimit(clip)))
  // Host pixels, or device pixels of another size (read back to resize), take OpenAI's preprocessing on the host.
  const host = 'data' in images ? images.data : size !== r ? ((await images.read()) as Float32Array) : null
  const logits = noGrad(() =>
    tidy(() => {
      const text = l2Normalize(clip.encodeText(clip.device.tensor(tokenRows(tokenizer, [prompt], clip.config.contextLength), [1, clip.config.contextLength])))
      const features = host ? encodeImagesBatched(clip, preprocessPixels(host, size, r), { batchSize: batch }) : encodeOnDevice(clip, images as Tensor, batch)
      return ops.mul(ops.matmul(l2Normalize(features), text, { transB: true }), ops.exp(clip.logitScale)) // [N, 1]
    }),
  )
  const scores = (await logits.read()) as Float32Array
  logits.dispose()
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b)
  return { scores, indices: order.slice(0, keep) }
}

/** Device pixels at the model's size: normalised and encoded slice by slice without leaving the device. */
function encodeOnDevice(clip: CLIP, images: Tensor, batch: number): Tensor {
  const mean = clip.device.tensor(Float32Array.from(CLIP_MEAN), [1, 3, 1, 1])
  const std = clip.device.tensor(Float32Array.from(CLIP_STD), [1, 3, 1, 1])
  const n = images.shape[0]!
  const parts: Tensor[] = []
  for (let start = 0; start < n; start += batch) {
    parts.push(
      tidy(() => {
        const slice = n <= batch ? images : ops.slice(images, [{ start, end: Math.min(n, start + batch) }])
        return clip.encodeImage(ops.div(ops.sub(ops.clamp(slice, 0, 1), mean), std))
      }),
    )
  }
  return parts.length === 1 ? parts[0]! : ops.concat(parts, 0)
}

/**
 * The `clip` reranker of `@tessera/plugins` (contract version 1): `create({ model, tokenizer,
 * batchSize? })` → `{ score(prompt, images) }`, the logits of `clipRerank`. Registered when this
 * package is imported: `getPlugin('reranker', 'clip').create({ model, tokenizer })`.
 */
export const CLIP_RERANKER: RerankerPlugin = {
  kind: 'reranker',
  name: 'clip',
  contract: CONTRACT_VERSIONS.reranker,
  description: "CLIP's exp(logit_scale)·cosine between each image and the prompt (options: model, tokenizer, batchSize)",
  create(options) {
    const { model, tokenizer, batchSize } = options as { model?: CLIP; tokenizer?: ClipTextTokenizer; batchSize?: number }
    if (!model || typeof (model as CLIP).encodeImage !== 'function' || !tokenizer || typeof tokenizer.tokenize !== 'function') {
      throw new ClipInputError("the 'clip' reranker needs { model: CLIP, tokenizer } (e.g. from loadClip(device, dir))")
    }
    return clipReranker(model, tokenizer, { batchSize })
  },
}

/** The plugin contract's Reranker over a model and its tokenizer. */
export function clipReranker(clip: CLIP, tokenizer: ClipTextTokenizer, opts: { batchSize?: number } = {}): Reranker {
  return { score: async (prompt, images) => (await clipRerank(clip, tokenizer, prompt, images, { batchSize: opts.batchSize })).scores }
}
