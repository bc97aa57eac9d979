import { isGradEnabled, keep, nn, noGrad, ops, tidy, type Device, type Tensor } from '@tessera/tensor-core'
import { gridSize, preset, resolveConfig, type ClipConfig, type ResolvedClipConfig } from './config.js'
import { ClipInputError } from './errors.js'
import { Transformer } from './model/transformer.js'
import { VisionTransformer } from './model/vision.js'

export interface CreateOptions {
  /** Seed of the host generator that initialises the weights (default 0). */
  seed?: number
}

/** Scalars OpenAI's TorchScript archives keep in their state dict that are not weights. */
const ARCHIVE_SCALARS = new Set(['input_resolution', 'context_length', 'vocab_size'])

/** OpenAI's initial temperature: logit_scale = ln(1/0.07). */
export const INITIAL_LOGIT_SCALE = Math.log(1 / 0.07)
/** OpenAI clamps the learned logit scale so logits are scaled by at most 100. */
export const MAX_LOGIT_SCALE = Math.log(100)

/**
 * CLIP in OpenAI's layout: `visual` (a ViT), the text `transformer` with a causal mask,
 * `token_embedding`, `positional_embedding`, `ln_final`, `text_projection`, `logit_scale`.
 * State-dict names are OpenAI's, so converted checkpoints load without renaming.
 */
export class CLIP extends nn.Module {
  readonly config: ResolvedClipConfig
  readonly visual: VisionTransformer
  readonly transformer: Transformer
  readonly tokenEmbedding: nn.Embedding
  readonly positionalEmbedding: Tensor
  readonly lnFinal: nn.LayerNorm
  readonly textProjection: Tensor
  readonly logitScale: Tensor
  private causal: Tensor | null = null

  constructor(
    readonly device: Device,
    config: ClipConfig | string,
    opts: CreateOptions = {},
  ) {
    super()
    this.config = typeof config === 'string' ? preset(config) : resolveConfig(config)
    const c = this.config
    const rng = new nn.HostRandom(opts.seed ?? 0)
    const w = c.transformerWidth
    this.visual = this.registerModule('visual', new VisionTransformer(device, c, rng))
    this.transformer = this.registerModule('transformer', new Transformer(device, w, c.transformerLayers, c.transformerHeads, rng))
    this.tokenEmbedding = this.registerModule('token_embedding', new nn.Embedding(device, c.vocabSize, w, { std: 0.02, rng }))
    this.positionalEmbedding = this.registerParameter('positional_embedding', device.tensor(nn.init.normal(c.contextLength * w, 0, 0.01, rng), [c.contextLength, w]))
    this.lnFinal = this.registerModule('ln_final', new nn.LayerNorm(device, w))
    this.textProjection = this.registerParameter('text_projection', device.tensor(nn.init.normal(w * c.embedDim, 0, w ** -0.5, rng), [w, c.embedDim]))
    this.logitScale = this.registerParameter('logit_scale', device.tensor(new Float32Array([INITIAL_LOGIT_SCALE]), []))
    // OpenAI's block initialisation, for both towers.
    this.transformer.loadStateDict(this.transformer.openaiInit(rng), { strict: false })
    this.visual.transformer.loadStateDict(this.visual.transformer.openaiInit(rng), { strict: false })
  }

  /**
   * Loads OpenAI's state dict (names unchanged; fp16 values become f32). The three scalars
   * OpenAI's TorchScript archives keep beside the weights (input_resolution, context_length,
   * vocab_size) are ignored; any other unknown, missing or mis-shaped name is an error listing them.
   */
  override loadStateDict(source: nn.StateDictSource, opts: { strict?: boolean } = {}): void {
    const entries = source instanceof Map ? [...source] : Object.entries(source)
    super.loadStateDict(new Map(entries.filter(([name]) => !ARCHIVE_SCALARS.has(name))), opts)
  }

  /** Side of the square images the model takes. */
  get imageResolution(): number {
    return this.config.imageResolution
  }

  get contextLength(): number {
    return this.config.contextLength
  }

  /**
   * Normalised images f32 [N, 3, R, R] (see `preprocess`) → image features f32 [N, embedDim],
   * not L2-normalised (as OpenAI's encode_image). Recorded for autograd when gradients are on.
   */
  encodeImage(images: Tensor): Tensor {
    const r = this.config.imageResolution
    if (images.dtype !== 'f32' || images.rank !== 4 || images.shape[1] !== 3 || images.shape[2] !== r || images.shape[3] !== r) {
      throw new ClipInputError(`encodeImage takes f32 [N, 3, ${r}, ${r}] normalised images, got ${images.dtype} [${images.shape.join(', ')}]`)
    }
    return scoped(() => this.visual.forward(images))
  }

  /**
   * Token rows i32 [N, contextLength] (start token, text, end token, zero padding) → text
   * features f32 [N, embedDim]: the final layer-normed state at the end token, found as the
   * row's highest id (as OpenAI's encode_text: the end token has the vocabulary's last id).
   */
  encodeText(tokens: Tensor): Tensor {
    const l = this.config.contextLength
    if (tokens.dtype !== 'i32' || tokens.rank !== 2 || tokens.shape[1] !== l) {
      throw new ClipInputError(`encodeText takes i32 [N, ${l}] token rows (tokenizer.tokenize(texts, { contextLength: ${l} })), got ${tokens.dtype} [${tokens.shape.join(', ')}]`)
    }
    const n = tokens.shape[0]!
    const w = this.config.transformerWidth
    return scoped(() => {
      const x = ops.add(this.tokenEmbedding.forward(tokens), this.positionalEmbedding)
      const h = this.lnFinal.forward(this.transformer.forward(x, this.causalMask()))
      const eot = ops.broadcastTo(ops.reshape(ops.argmax(tokens, -1), [n, 1, 1]), [n, 1, w])
      return ops.matmul(ops.reshape(ops.gather(h, 1, eot), [n, w]), this.textProjection)
    })
  }

  /**
   * Cosine similarities scaled by exp(logit_scale): logits per image [N_img, N_txt] (its
   * transpose is the logits per text), as OpenAI's forward.
   */
  logits(images: Tensor, tokens: Tensor): Tensor {
    return scoped(() => similarityLogits(this.encodeImage(images), this.encodeText(tokens), this.logitScale))
  }

  /** Clamps logit_scale into [0, ln 100] in place, as OpenAI's training does after each step. */
  clampLogitScale(): void {
    noGrad(() => {
      const clamped = ops.clamp(this.logitScale, 0, MAX_LOGIT_SCALE)
      this.loadStateDict({ logit_scale: clamped }, { strict: false })
      clamped.dispose()
    })
  }

  /** The causal keep-mask of the text tower, i32 [L, L] (1 = may attend: keys at or before the query). */
  private causalMask(): Tensor {
    if (!this.causal) {
      const l = this.config.contextLength
      const allowed = new Int32Array(l * l)
      for (let q = 0; q < l; q++) for (let k = 0; k <= q; k++) allowed[q * l + k] = 1
      // Not a buffer: OpenAI's state dict has no mask (it is an attribute there too).
      this.causal = keep(this.device.tensor(allowed, [l, l]))
    }
    return this.causal
  }

  /** Patches per side of the image tower's grid. */
  get gridSize(): number {
    return gridSize(this.config)
  }

  override dispose(): void {
    super.dispose()
    this.causal?.dispose()
    this.causal = null
  }
}

/**
 * Runs `fn` in a tidy scope when no gradient is recorded (inference frees its intermediates);
 * while recording, the intermediates are what backward needs, so they stay in the caller's scope.
 */
function scoped(fn: () => Tensor): Tensor {
  return isGradEnabled() ? fn() : tidy(fn)
}

/** Rows scaled to unit L2 norm. */
export function l2Normalize(x: Tensor): Tensor {
  return ops.mul(x, ops.rsqrt(ops.sum(ops.square(x), -1, { keepDims: true })))
}

/** exp(logitScale) · normalize(image) · normalize(text)ᵀ → [N_img, N_txt]. */
export function similarityLogits(imageFeatures: Tensor, textFeatures: Tensor, logitScale: Tensor): Tensor {
  return ops.mul(ops.matmul(l2Normalize(imageFeatures), l2Normalize(textFeatures), { transB: true }), ops.exp(logitScale))
}
