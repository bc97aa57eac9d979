import { CONTRACT_VERSIONS, type Reranker, type RerankerPlugin } from '@tessera/plugins'
import { ClipTokenizer } from '@tessera/bpe'
import { noGrad, ops, tidy, type Device, type Tensor } from '@tessera/tensor-core'
import { l2Normalize, type CLIP } from './clip.js'
import { encodeImagesBatched, imageBatchLimit } from './encode.js'
import { ClipInputError } from './errors.js'
import { CLIP_MEAN, CLIP_STD, preprocessPixels } from './preprocess.js'
import { clipTokenizerFromJSON, tokenRows, type ClipTextTokenizer } from './tokenizer.js'
import { clipFromBytes } from './weights.js'
import type { ClipConfig } from './config.js'

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
 * What the reranker needs of a @tessera/dalle bundle (structurally: this package does not depend
 * on dalle): the manifest's `clip` component and a way to read its files by role.
 */
export interface ClipBundleLike {
  manifest: { components: { clip?: { kind: string; config: Record<string, unknown>; files: Record<string, string> } } }
  readFile(component: 'clip', role: string): Promise<Uint8Array>
}

/** The bundle's `clip` component: kind, file roles (`weights`; `tokenizer` when the model has its own BPE). */
export const CLIP_COMPONENT_KIND = 'tessera-clip'

/**
 * The `clip` reranker of `@tessera/plugins` (contract version 1), registered when this package
 * is imported. `create` takes either `{ model, tokenizer, batchSize? }` or what @tessera/dalle's
 * generate passes, `{ device, bundle }`: the bundle's `clip` component (files `weights` and
 * optionally `tokenizer`, config = the ClipConfig) is loaded on the first `score`.
 * Scores are `clipRerank`'s logits, exp(logit_scale)·cos.
 */
export const CLIP_RERANKER: RerankerPlugin = {
  kind: 'reranker',
  name: 'clip',
  contract: CONTRACT_VERSIONS.reranker,
  description: "CLIP's exp(logit_scale)·cosine between each image and the prompt (options: { model, tokenizer } or a bundle's clip component)",
  create(options) {
    const { model, tokenizer, batchSize, device, bundle } = options as {
      model?: CLIP
      tokenizer?: ClipTextTokenizer
      batchSize?: number
      device?: Device
      bundle?: ClipBundleLike
    }
    if (model && tokenizer) return clipReranker(model, tokenizer, { batchSize })
    if (device && bundle?.manifest?.components?.clip) {
      let loaded: Promise<{ model: CLIP; tokenizer: ClipTextTokenizer }> | null = null
      return {
        async score(prompt, images) {
          loaded ??= loadBundleClip(device, bundle)
          const clip = await loaded
          return (await clipRerank(clip.model, clip.tokenizer, prompt, images, { batchSize })).scores
        },
      }
    }
    throw new ClipInputError("the 'clip' reranker needs { model: CLIP, tokenizer } (e.g. from loadClip(device, dir)) or { device, bundle } with a bundle that has a clip component")
  },
}

async function loadBundleClip(device: Device, bundle: ClipBundleLike): Promise<{ model: CLIP; tokenizer: ClipTextTokenizer }> {
  const entry = bundle.manifest.components.clip!
  const model = clipFromBytes(device, await bundle.readFile('clip', 'weights'), entry.config as unknown as ClipConfig)
  const tokenizer = entry.files.tokenizer ? clipTokenizerFromJSON(new TextDecoder().decode(await bundle.readFile('clip', 'tokenizer'))) : await ClipTokenizer.load()
  return { model, tokenizer }
}

/** The plugin contract's Reranker over a model and its tokenizer. */
export function clipReranker(clip: CLIP, tokenizer: ClipTextTokenizer, opts: { batchSize?: number } = {}): Reranker {
  return { score: async (prompt, images) => (await clipRerank(clip, tokenizer, prompt, images, { batchSize: opts.batchSize })).scores }
}
