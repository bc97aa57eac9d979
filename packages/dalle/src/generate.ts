import type { DiscreteVAE } from '@tessera/dvae'
import { getPlugin, listPlugins, type MaskSpec, type SamplerSpec } from '@tessera/plugins'
import type { Prior } from '@tessera/prior'
import { ops, tidy, type Device, type Tensor } from '@tessera/tensor-core'
import { DalleInputError } from './errors.js'
import { imageTokens, regionMask, type ImagePromptInput } from './image-prompt.js'
import { GeneratedImages } from './images.js'
import type { BundleManifest } from './manifest.js'

/** What generate needs of a loaded bundle (DalleBundle implements it). */
export interface GenerationModels {
  readonly device: Device
  readonly manifest: BundleManifest
  readonly dvae: DiscreteVAE
  encodePrompt(prompt: string, opts: { truncate?: boolean }): Int32Array
  priorWithMasks(masks: string | readonly MaskSpec[] | undefined): Promise<Prior>
}

export interface GenerateProgress {
  /** Image tokens drawn so far per candidate, of `total` (H·W). */
  done: number
  total: number
  /** The tokens so far, row-major [count, done]. */
  tokens: Int32Array
  /** Decodes the candidates as they stand: tokens not drawn yet are left blank (white). */
  preview(): Promise<GeneratedImages>
}

export interface GenerateOptions {
  prompt: string
  /** Candidates sampled (default 1). */
  count?: number
  /** Candidates returned, best first by the reranker (default: all). */
  keep?: number
  /** Sampler stages by plugin name, after temperature / topK / topP below (e.g. 'greedy'). */
  sampler?: SamplerSpec
  topK?: number
  topP?: number
  temperature?: number
  /** Classifier-free guidance scale (the prior must have been trained with null captions). */
  guidance?: number
  /** The same seed, prompt and options give the same images (default 0). */
  seed?: number
  /** Attention masks to generate under instead of the prior's own: a schedule, one name for every layer, or one per layer. */
  masks?: string | readonly MaskSpec[]
  /** Reranker plugin by name (or { name, ...options }); default 'clip' when the bundle has CLIP and the plugin is registered, else 'none'. */
  reranker?: string | ({ name: string } & Record<string, unknown>)
  /** Image-to-image: keep a region of this image's tokens and sample the rest. */
  imagePrompt?: ImagePromptInput
  /** Called every `progressEvery` tokens (default: one grid row) with the tokens so far and a preview decoder. */
  onProgress?: (progress: GenerateProgress) => void | Promise<void>
  progressEvery?: number
  signal?: AbortSignal
  /** Cut a prompt longer than the prior takes instead of throwing PromptTooLongError. */
  truncate?: boolean
}

export interface GenerateResult {
  /** The kept images, best first: f32 [keep, 3, S, S] in [0, 1]. */
  images: GeneratedImages
  /** The reranker's score of each kept image (higher = better). */
  scores: Float32Array
  /** The kept images' tokens, [keep, H·W] raster order. */
  tokens: Int32Array
  /** Where each kept image was among the candidates (sampling order). */
  candidates: number[]
  /** Every candidate's score, in sampling order. */
  candidateScores: Float32Array
  reranker: string
  gridSize: [number, number]
  seconds: number
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new DalleInputError(`${name} must be a positive integer, got ${v}`)
  return v
}

/** The sampler stages the options describe, in order: temperature, topK, topP, then `sampler`. */
export function samplerStages(o: Pick<GenerateOptions, 'sampler' | 'topK' | 'topP' | 'temperature'>): SamplerSpec[] {
  const stages: SamplerSpec[] = []
  if (o.temperature !== undefined) stages.push({ name: 'temperature', temperature: o.temperature })
  if (o.topK !== undefined) stages.push({ name: 'topK', k: o.topK })
  if (o.topP !== undefined) stages.push({ name: 'topP', p: o.topP })
  if (o.sampler !== undefined) stages.push(o.sampler)
  return stages
}

/** The reranker the options name, or the default for this bundle. */
function rerankerName(models: GenerationModels, spec: GenerateOptions['reranker']): { name: string; options: Record<string, unknown> } {
  if (spec === undefined) return { name: models.manifest.components.clip && listPlugins('reranker').includes('clip') ? 'clip' : 'none', options: {} }
  if (typeof spec === 'string') return { name: spec, options: {} }
  const { name, ...options } = spec
  return { name, options }
}

/** Candidates in score order (stable: ties and NaNs keep sampling order, NaNs last). */
function rankOrder(scores: Float32Array): number[] {
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!)
  return Array.from(scores, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b)
}

/** Tokens [count, HW] → images [count, C, S, S] on the device. */
function decodeTokens(dvae: DiscreteVAE, tokens: Tensor, grid: readonly [number, number]): Tensor {
  return tidy(() => dvae.decode(ops.reshape(tokens, [tokens.shape[0]!, grid[0], grid[1]])))
}

async function readImages(images: Tensor): Promise<GeneratedImages> {
  const [n, c, s] = images.shape as [number, number, number, number]
  return new GeneratedImages((await images.read()) as Float32Array, n, c, s)
}

/** Decodes partial grids: positions ≥ done (unless given by the image prompt) are blanked to white. */
async function decodePartial(dvae: DiscreteVAE, done: number, drawn: Int32Array, count: number, grid: readonly [number, number], given: { tokens: Int32Array; known: Uint8Array } | null): Promise<GeneratedImages> {
  const HW = grid[0] * grid[1]
  const full = new Int32Array(count * HW)
  const shown = (i: number) => i < done || (given?.known[i] ?? 0) === 1
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < HW; i++) full[r * HW + i] = i < done ? drawn[r * done + i]! : given?.known[i] ? given.tokens[i]! : 0
  }
  const t = tidy(() => decodeTokens(dvae, dvae.device.tensor(full, [count, HW]), grid))
  let out: GeneratedImages
  try {
    out = await readImages(t)
  } finally {
    t.dispose()
  }
  const patch = out.size / grid[1]
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < out.channels; c++) {
      const plane = out.pixels.subarray(((r * out.channels + c) * out.size) * out.size, ((r * out.channels + c + 1) * out.size) * out.size)
      for (let y = 0; y < out.size; y++) for (let x = 0; x < out.size; x++) if (!shown(Math.floor(y / patch) * grid[1] + Math.floor(x / patch))) plane[y * out.size + x] = 1
    }
  }
  return out
}

/**
 * Prompt → tokens → `count` candidates sampled by the prior → decoded by the dVAE → scored by
 * the reranker → the best `keep`, best first.
 */
export async function generateImages(models: GenerationModels, opts: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now()
  const { dvae, device } = models
  const count = positiveInt('count', opts.count ?? 1)
  const keep = positiveInt('keep', opts.keep ?? count)
  if (keep > count) throw new DalleInputError(`keep (${keep}) cannot be more than count (${count}): it picks the best of the candidates`)
  if (typeof opts.prompt !== 'string') throw new DalleInputError('generate needs a prompt (a string; "" for none)')
  const text = models.encodePrompt(opts.prompt, { truncate: opts.truncate })
  const prior = await models.priorWithMasks(opts.masks)
  const grid = prior.config.gridSize
  const HW = grid[0] * grid[1]
  const rerank = rerankerName(models, opts.reranker)
  const reranker = getPlugin('reranker', rerank.name).create({ ...rerank.options, device, bundle: models })

  let given: { tokens: Int32Array; known: Uint8Array } | null = null
  if (opts.imagePrompt) {
    const known = regionMask(opts.imagePrompt.keep, grid, opts.imagePrompt.amount)
    given = { tokens: await imageTokens(dvae, opts.imagePrompt.image, opts.imagePrompt.search), known }
  }
  const onProgress = opts.onProgress
  const tokens = await prior.generate([text], {
    count,
    seed: opts.seed ?? 0,
    sampler: samplerStages(opts),
    guidance: opts.guidance,
    imagePrompt: given ?? undefined,
    signal: opts.signal,
    progressEvery: opts.progressEvery ?? grid[1],
    onProgress: onProgress && (({ done, total, tokens: drawn }) => onProgress({ done, total, tokens: drawn, preview: () => decodePartial(dvae, done, drawn, count, grid, given) })),
  })
  let images: Tensor | null = null
  try {
    opts.signal?.throwIfAborted()
    images = decodeTokens(dvae, tokens, grid)
    const candidateScores = await reranker.score(opts.prompt, images)
    if (candidateScores.length !== count) throw new DalleInputError(`reranker '${rerank.name}' returned ${candidateScores.length} scores for ${count} images`)
    const all = await readImages(images)
    const allTokens = (await tokens.read()) as Int32Array
    const order = rankOrder(candidateScores).slice(0, keep)
    const n = all.channels * all.size * all.size
    const pixels = new Float32Array(keep * n)
    const kept = new Int32Array(keep * HW)
    order.forEach((c, k) => {
      pixels.set(all.pixels.subarray(c * n, (c + 1) * n), k * n)
      kept.set(allTokens.subarray(c * HW, (c + 1) * HW), k * HW)
    })
    return {
      images: new GeneratedImages(pixels, keep, all.channels, all.size),
      scores: Float32Array.from(order, (c) => candidateScores[c]!),
      tokens: kept,
      candidates: order,
      candidateScores,
      reranker: rerank.name,
      gridSize: [grid[0], grid[1]],
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    tokens.dispose()
    images?.dispose()
  }
}
