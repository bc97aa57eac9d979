import { resolveSampler, type SamplerSpec } from '@tessera/plugins'
import { noGrad, ops, tidy, type Tensor } from '@tessera/tensor-core'
import { PriorConfigError, PriorInputError } from './errors.js'
import type { LayerCache } from './model/block.js'
import type { Prior } from './prior.js'

/** Tokens to keep instead of sampling: completion (a known prefix) and zero-shot image-to-image (any region). */
export interface ImagePrompt {
  /** Image tokens, H·W of them (shared by every image) or H·W per image (rows × H·W). */
  tokens: Int32Array | readonly number[]
  /** H·W flags: 1 = keep the given token at this position. Default: keep all given positions. */
  known: Uint8Array | readonly number[]
}

export interface GenerationProgress {
  /** Image tokens done so far per image (position + 1 of H·W). */
  done: number
  total: number
  /** Tokens so far, row-major [images, done]. */
  tokens: Int32Array
}

export interface GenerateOptions {
  /** Images per caption (default 1). */
  count?: number
  /** How each token is drawn (plugin names; default: a plain draw from the softmax). */
  sampler?: SamplerSpec
  /** Classifier-free guidance scale: wraps the sampler in `cfg` (needs a prior trained with null captions). */
  guidance?: number
  /** Seed of the draws: the same seed, captions, count and options give the same tokens. */
  seed?: number
  imagePrompt?: ImagePrompt
  /** Called after every `progressEvery` tokens (default 1) with the tokens so far (a read per call). */
  onProgress?: (progress: GenerationProgress) => void | Promise<void>
  progressEvery?: number
  /** Stops generation between tokens; the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Keep keys and values of past positions (default true); false recomputes the whole prefix each token. */
  kvCache?: boolean
}

function checkCaptions(prior: Prior, captions: readonly (readonly number[] | Int32Array)[]): Int32Array {
  const { textLength: T, textVocabSize: V } = prior.config
  if (captions.length === 0) throw new PriorInputError('generate needs at least one caption')
  const out = new Int32Array(captions.length * T)
  captions.forEach((ids, r) => {
    if (ids.length !== T) throw new PriorInputError(`caption ${r} has ${ids.length} tokens; the prior takes exactly ${T} (pad with ${prior.config.padId})`)
    for (let p = 0; p < T; p++) {
      const id = ids[p]!
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new PriorInputError(`caption ${r} token ${p} is ${id}, outside the text vocabulary [0, ${V})`)
      out[r * T + p] = id
    }
  })
  return out
}

/** Given tokens per image [rows, H·W] and known flags [H·W], checked. */
function checkPrompt(prior: Prior, prompt: ImagePrompt | undefined, rows: number): { given: Int32Array; known: Uint8Array } | null {
  if (!prompt) return null
  const HW = prior.imageLength
  const V = prior.config.imageVocabSize
  const known = Uint8Array.from(prompt.known)
  if (known.length !== HW) throw new PriorInputError(`imagePrompt.known has ${known.length} flags; the grid has ${HW} positions`)
  const t = prompt.tokens
  if (t.length !== HW && t.length !== rows * HW) throw new PriorInputError(`imagePrompt.tokens has ${t.length} tokens; expected ${HW} (shared) or ${rows * HW} (one grid per image)`)
  const given = new Int32Array(rows * HW)
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < HW; i++) {
      const v = t.length === HW ? t[i]! : t[r * HW + i]!
      if (known[i] && !(Number.isInteger(v) && v >= 0 && v < V)) throw new PriorInputError(`imagePrompt token ${v} at position ${i} is outside the image vocabulary [0, ${V})`)
      given[r * HW + i] = known[i] ? v : 0
    }
  }
  return { given, known }
}

const nextTask = () => new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))

/**
 * Samples image tokens for each caption, `count` images each, token by token in raster order:
 * i32 [captions·count, H·W] (rows grouped by caption). With guidance the batch carries each
 * image twice, once under the null caption (all pads), and the sampler mixes the two logits.
 */
export async function generateImageTokens(prior: Prior, captions: readonly (readonly number[] | Int32Array)[], opts: GenerateOptions = {}): Promise<Tensor> {
  const c = prior.config
  const device = prior.device
  const T = c.textLength
  const HW = prior.imageLength
  const V = c.imageVocabSize
  const count = opts.count ?? 1
  if (!Number.isInteger(count) || count < 1) throw new PriorInputError(`count must be a positive integer, got ${count}`)
  const notCausal = prior.masks.find((m) => !m.causal)
  if (notCausal) throw new PriorConfigError(`cannot generate with mask ${JSON.stringify(notCausal.spec)}: it lets positions see later ones`)
  const text = checkCaptions(prior, captions)
  const rows = (text.length / T) * count
  const prompt = checkPrompt(prior, opts.imagePrompt, rows)
  const spec: SamplerSpec = opts.sampler ?? []
  const sampler = resolveSampler(opts.guidance !== undefined ? { name: 'cfg', scale: opts.guidance, sampler: spec } : spec)
  const guided = sampler.needsUnconditional
  const seed = opts.seed ?? 0
  const every = opts.progressEvery ?? 1
  const useCache = opts.kvCache ?? true
  // Leading known positions are run in one prefill instead of token by token.
  let prefix = 0
  while (prompt && prefix < HW && prompt.known[prefix]) prefix++

  const textRows = new Int32Array(rows * T)
  for (let r = 0; r < rows; r++) textRows.set(text.subarray(Math.floor(r / count) * T, Math.floor(r / count) * T + T), r * T)
  const batchText = guided ? Int32Array.from([...textRows, ...new Int32Array(rows * T).fill(c.padId)]) : textRows
  const twice = (t: Tensor) => (guided ? ops.concat([t, t], 0) : t)

  // Sampling never backpropagates: without the tape, no op records a gradient node.
  const state = noGrad(() => tidy(() => {
    const textIn = prior.textInputs(device.tensor(batchText, [batchText.length / T, T]))
    const tokens = device.tensor(prompt ? slicePrefix(prompt.given, rows, HW, prefix) : new Int32Array(0), [rows, prefix])
    return { textIn, tokens }
  }))
  let { tokens } = state
  let caches: LayerCache[] | null = null
  const freeCaches = () => {
    for (const cache of caches ?? []) (cache.k.dispose(), cache.v.dispose())
  }
  try {
    for (let i = prefix; i < HW; i++) {
      if (opts.signal) {
        await nextTask() // lets an abort (a signal handler, a click) run even where kernels never yield
        opts.signal.throwIfAborted()
      }
      const step = noGrad(() => tidy(() => {
        // Positions whose outputs are needed: the output at T + i predicts image token i.
        const end = T + 1 + i
        const start = useCache && caches ? end - 1 : 0
        const run = prior.runPositions(state.textIn, twice(tokens), start, end, useCache && caches ? caches : undefined)
        const last = ops.reshape(ops.slice(run.hidden, [undefined, { start: end - start - 1 }]), [run.hidden.shape[0]!, c.width])
        const logits = prior.image_head.forward(last)
        let next: Tensor
        if (prompt?.known[i]) {
          next = device.tensor(column(prompt.given, rows, HW, i), [rows])
        } else {
          const cond = guided ? ops.slice(logits, [{ start: 0, end: rows }]) : logits
          const unconditional = guided ? ops.slice(logits, [{ start: rows }]) : undefined
          next = sampler.sample(cond, { position: i, random: { seed, offset: i * rows * V }, unconditional })
        }
        return { tokens: ops.concat([tokens, ops.reshape(next, [rows, 1])], 1), caches: useCache ? run.caches : null }
      }))
      tokens.dispose()
      freeCaches()
      tokens = step.tokens
      caches = step.caches
      if (opts.onProgress && ((i + 1 - prefix) % every === 0 || i === HW - 1)) {
        await opts.onProgress({ done: i + 1, total: HW, tokens: (await tokens.read()) as Int32Array })
      }
    }
    return tokens
  } catch (err) {
    tokens.dispose()
    throw err
  } finally {
    freeCaches()
    state.textIn.dispose()
  }
}

/** The first `prefix` tokens of each row of [rows, HW]. */
function slicePrefix(given: Int32Array, rows: number, HW: number, prefix: number): Int32Array {
  const out = new Int32Array(rows * prefix)
  for (let r = 0; r < rows; r++) out.set(given.subarray(r * HW, r * HW + prefix), r * prefix)
  return out
}

function column(given: Int32Array, rows: number, HW: number, i: number): Int32Array {
  return Int32Array.from({ length: rows }, (_, r) => given[r * HW + i]!)
}
