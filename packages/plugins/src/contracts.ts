import type { Tensor } from '@tessera/tensor-core'

/**
 * The contract version each plugin kind is at. A plugin states the version it implements;
 * registering one written for another version is refused with a message saying both, so a
 * plugin built against an older contract fails loudly instead of misbehaving.
 */
export const CONTRACT_VERSIONS = {
  attentionMask: 1,
  sampler: 1,
  reranker: 1,
  textTokenizer: 1,
  imageTokenizer: 1,
} as const

export type PluginKind = keyof typeof CONTRACT_VERSIONS

interface PluginBase<K extends PluginKind> {
  readonly kind: K
  readonly name: string
  /** The contract version implemented: CONTRACT_VERSIONS[kind]. */
  readonly contract: number
  readonly description?: string
}

// ---- attentionMask ----------------------------------------------------------------------

/** Where the text and image tokens sit: text first, then the image grid in raster order. */
export interface MaskGeometry {
  textLength: number
  /** [rows, columns] of the image token grid. */
  gridSize: readonly [number, number]
}

/**
 * Which keys each query position may attend to in a sequence of `textLength` text tokens
 * followed by rows × columns image tokens. Options (e.g. `kernelSize`) travel beside the geometry.
 */
export interface AttentionMaskPlugin extends PluginBase<'attentionMask'> {
  /** (T + H·W)² entries, row-major [query][key]; 1 = may attend. */
  allowed(options: MaskGeometry & Record<string, unknown>): Uint8Array
}

// ---- sampler ----------------------------------------------------------------------------

export interface SamplerContext {
  /** Index of the token being drawn within the sequence being sampled (0-based). */
  position: number
  /** Counter-based random stream of this draw: the same seed and offset give the same token. */
  random: { seed: number; offset: number }
  /** Logits of the same rows under the null caption, present when a stage needs them. */
  unconditional?: Tensor
}

/**
 * One stage of a sampler. Stages run in order: each `transform` maps logits [N, V] to logits
 * (temperature, top-k, guidance, …); the last stage with a `pick` chooses the tokens (i32 [N]);
 * without one, tokens are drawn from softmax(logits).
 */
export interface SamplerStage {
  /** The stage reads ctx.unconditional (classifier-free guidance). */
  readonly needsUnconditional?: boolean
  transform?(logits: Tensor, ctx: SamplerContext): Tensor
  pick?(logits: Tensor, ctx: SamplerContext): Tensor
}

export interface SamplerPlugin extends PluginBase<'sampler'> {
  create(options: Record<string, unknown>): SamplerStage
}

// ---- reranker ---------------------------------------------------------------------------

export interface Reranker {
  /** One score per image (higher = better match), f32 [N] on the host. */
  score(prompt: string, images: Tensor /* f32 [N, 3, S, S] in [0, 1] */): Promise<Float32Array>
}

export interface RerankerPlugin extends PluginBase<'reranker'> {
  create(options: Record<string, unknown>): Reranker
}

// ---- tokenizers -------------------------------------------------------------------------

export interface TextTokenizer {
  readonly vocabSize: number
  encode(text: string, options?: { dropout?: number; seed?: number }): number[]
  decode(ids: readonly number[]): string
}

export interface TextTokenizerPlugin extends PluginBase<'textTokenizer'> {
  create(options: Record<string, unknown>): TextTokenizer | Promise<TextTokenizer>
}

export interface ImageTokenizer {
  readonly vocabSize: number
  /** [rows, columns] of the token grid of one image. */
  readonly gridSize: readonly [number, number]
  readonly imageSize: number
  /** f32 [N, 3, S, S] in [0, 1] → i32 [N, rows·columns]. */
  encode(images: Tensor): Tensor
  /** i32 [N, rows·columns] → f32 [N, 3, S, S] in [0, 1]. */
  decode(tokens: Tensor): Tensor
}

export interface ImageTokenizerPlugin extends PluginBase<'imageTokenizer'> {
  create(options: Record<string, unknown>): ImageTokenizer | Promise<ImageTokenizer>
}

export interface PluginOfKind {
  attentionMask: AttentionMaskPlugin
  sampler: SamplerPlugin
  reranker: RerankerPlugin
  textTokenizer: TextTokenizerPlugin
  imageTokenizer: ImageTokenizerPlugin
}

export type AnyPlugin = PluginOfKind[PluginKind]

/** The method each kind must have, checked at registration. */
export const REQUIRED_METHOD: Record<PluginKind, string> = {
  attentionMask: 'allowed',
  sampler: 'create',
  reranker: 'create',
  textTokenizer: 'create',
  imageTokenizer: 'create',
}
