import { nn, noGrad, ops, tidy, type Device, type Tensor, io } from '@tessera/tensor-core'
import { resolvePriorConfig, sequenceLength, type PriorConfig, type ResolvedPriorConfig } from './config.js'
import { PriorInputError } from './errors.js'
import { layerMasks, maskTensors, type LayerMask } from './masks.js'
import { Block, type LayerCache } from './model/block.js'
import { generateImageTokens, type GenerateOptions } from './generate.js'

export interface PriorLosses {
  /** (textLossWeight·textCe + imageLossWeight·imageCe) / (textLossWeight + imageLossWeight). */
  loss: Tensor
  /** Mean cross-entropy of the text positions (nats per token), pads predicted as one class. */
  textCe: Tensor
  /** Mean cross-entropy of the image tokens (nats per token). */
  imageCe: Tensor
}

/**
 * DALL·E's prior: a decoder-only transformer over [caption tokens (a learned pad token per
 * empty position)] ++ [image tokens in raster order]. Position 0 holds a BOS token and
 * position p ≥ 1 the token p − 1, so the output at p predicts token p: text positions predict
 * text, position T + i predicts image token i. Text slots have a position embedding, image
 * slots a row plus a column embedding. Each layer attends under its own mask from the plugin
 * registry (row, column, conv, …). State-dict names: see README (the PyTorch reference uses them).
 */
export class Prior extends nn.Module {
  readonly config: ResolvedPriorConfig
  readonly masks: readonly LayerMask[]
  readonly text_embedding: nn.Embedding
  readonly text_pos_embedding: nn.Embedding
  readonly image_embedding: nn.Embedding
  readonly image_row_embedding: nn.Embedding
  readonly image_col_embedding: nn.Embedding
  readonly blocks: Block[] = []
  readonly ln_f: nn.LayerNorm
  readonly text_head: nn.Linear
  readonly image_head: nn.Linear
  /** Per layer i32 [L, L] keep-masks (layers with the same mask share one tensor). */
  private readonly maskT: Tensor[]
  /** i32 [T]: the id of the pad token of each text position (textVocabSize + p). */
  private readonly padIds: Tensor
  /** i32 [H·W]: the row and the column of each image slot. */
  private readonly slotRows: Tensor
  private readonly slotCols: Tensor

  constructor(
    readonly device: Device,
    config: PriorConfig,
  ) {
    super()
    const c = (this.config = resolvePriorConfig(config))
    const [rows, cols] = c.gridSize
    const L = sequenceLength(c)
    this.masks = layerMasks(c)
    const rng = new nn.HostRandom(c.seed)
    const emb = (name: string, n: number) => this.registerModule(name, new nn.Embedding(device, n, c.width, { rng }))
    this.text_embedding = emb('text_embedding', c.textVocabSize + c.textLength + 1)
    this.text_pos_embedding = emb('text_pos_embedding', c.textLength)
    this.image_embedding = emb('image_embedding', c.imageVocabSize)
    this.image_row_embedding = emb('image_row_embedding', rows)
    this.image_col_embedding = emb('image_col_embedding', cols)
    const blocks = this.registerModule('blocks', new nn.Module())
    for (let l = 0; l < c.layers; l++) this.blocks.push(blocks.registerModule(String(l), new Block(device, c.width, c.heads, c.ffMult, c.dropout)))
    this.ln_f = this.registerModule('ln_f', new nn.LayerNorm(device, c.width))
    this.text_head = this.registerModule('text_head', new nn.Linear(device, c.width, c.textVocabSize + 1, { rng }))
    this.image_head = this.registerModule('image_head', new nn.Linear(device, c.width, c.imageVocabSize, { rng }))
    this.initWeights(rng)
    this.maskT = maskTensors(device, this.masks, L)
    this.padIds = device.tensor(Int32Array.from({ length: c.textLength }, (_, p) => c.textVocabSize + p), [c.textLength]).keep()
    this.slotRows = device.tensor(Int32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols)), [rows * cols]).keep()
    this.slotCols = device.tensor(Int32Array.from({ length: rows * cols }, (_, i) => i % cols), [rows * cols]).keep()
  }

  /** GPT-2's initialisation: weights N(0, 0.02), biases 0, LayerNorm scale 1. */
  private initWeights(rng: nn.HostRandom): void {
    const state: Record<string, io.HostTensor> = {}
    for (const [name, t] of this.namedParameters()) {
      const data = name.endsWith('.bias') ? new Float32Array(t.size) : /(^|\.)ln_[^.]+\.weight$/.test(name) ? new Float32Array(t.size).fill(1) : nn.init.normal(t.size, 0, 0.02, rng)
      state[name] = { dtype: 'f32', shape: [...t.shape], data }
    }
    this.loadStateDict(state)
  }

  /** Sequence length: text length + grid positions. */
  get sequenceLength(): number {
    return sequenceLength(this.config)
  }

  /** Image positions: rows · columns. */
  get imageLength(): number {
    return this.config.gridSize[0] * this.config.gridSize[1]
  }

  /** BOS then the caption with each pad replaced by its position's pad token: i32 [N, T + 1]. */
  textInputs(text: Tensor): Tensor {
    const c = this.config
    const n = text.shape[0]!
    const withPads = ops.where(ops.eq(text, c.padId), this.padIds, text)
    return ops.concat([ops.full(this.device, [n, 1], c.textVocabSize + c.textLength, 'i32'), withPads], 1)
  }

  /** Slot embeddings of positions [start, end): text position embeddings, then image row + column. */
  private slotEmbeddings(start: number, end: number): Tensor {
    const T = this.config.textLength
    const parts: Tensor[] = []
    if (start < T) parts.push(ops.slice(this.text_pos_embedding.weight, [{ start, end: Math.min(end, T) }]))
    if (end > T) {
      const range = [{ start: Math.max(start, T) - T, end: end - T }]
      parts.push(ops.add(this.image_row_embedding.forward(ops.slice(this.slotRows, range)), this.image_col_embedding.forward(ops.slice(this.slotCols, range))))
    }
    return parts.length === 1 ? parts[0]! : ops.concat(parts, 0)
  }

  /**
   * Input embeddings of positions [start, end) [N, end − start, D]. `textIn` is textInputs()
   * (positions 0 … T hold it); `image` holds the image tokens, whose token i sits at position T + 1 + i.
   */
  private embed(textIn: Tensor | null, image: Tensor | null, start: number, end: number): Tensor {
    const T = this.config.textLength
    const parts: Tensor[] = []
    if (start <= T) parts.push(this.text_embedding.forward(ops.slice(textIn!, [undefined, { start, end: Math.min(end, T + 1) }])))
    if (end > T + 1) {
      const from = Math.max(start, T + 1) - T - 1
      parts.push(this.image_embedding.forward(ops.slice(image!, [undefined, { start: from, end: end - T - 1 }])))
    }
    const tokens = parts.length === 1 ? parts[0]! : ops.concat(parts, 1)
    return ops.add(tokens, this.slotEmbeddings(start, end))
  }

  /**
   * Runs positions [start, end) through every layer and the final LayerNorm: [N, end − start, D].
   * With `caches` (one per layer, holding positions [0, start)), attention also sees those; the
   * returned caches hold [0, end).
   */
  runPositions(textIn: Tensor | null, image: Tensor | null, start: number, end: number, caches?: readonly LayerCache[]): { hidden: Tensor; caches: LayerCache[] } {
    let x = this.embed(textIn, image, start, end)
    const masks = new Map<Tensor, Tensor>()
    const out: LayerCache[] = []
    this.blocks.forEach((block, l) => {
      const full = this.maskT[l]!
      let mask = masks.get(full)
      if (!mask) masks.set(full, (mask = start === 0 && end === this.sequenceLength ? full : ops.slice(full, [{ start, end }, { start: 0, end }])))
      const r = block.forward(x, mask, caches?.[l])
      x = r.y
      out.push(r.cache)
    })
    return { hidden: this.ln_f.forward(x), caches: out }
  }

  private checkInputs(text: Tensor, image: Tensor): void {
    const c = this.config
    const n = text.shape[0]
    if (text.dtype !== 'i32' || text.rank !== 2 || text.shape[1] !== c.textLength) throw new PriorInputError(`text must be i32 [N, ${c.textLength}], got ${text.dtype} [${text.shape.join(', ')}]`)
    if (image.dtype !== 'i32' || image.rank !== 2 || image.shape[0] !== n || image.shape[1] !== this.imageLength) {
      throw new PriorInputError(`image must be i32 [${n}, ${this.imageLength}] (N captions × rows·columns tokens), got ${image.dtype} [${image.shape.join(', ')}]`)
    }
  }

  /** Text logits f32 [N, T, textVocabSize + 1] (the last class is "pad") and image logits f32 [N, H·W, imageVocabSize]. */
  forward(text: Tensor, image: Tensor): { textLogits: Tensor; imageLogits: Tensor } {
    this.checkInputs(text, image)
    const T = this.config.textLength
    const { hidden } = this.runPositions(this.textInputs(text), image, 0, this.sequenceLength)
    return {
      textLogits: this.text_head.forward(ops.slice(hidden, [undefined, { start: 0, end: T }])),
      imageLogits: this.image_head.forward(ops.slice(hidden, [undefined, { start: T }])),
    }
  }

  /** f32 [N, H·W, imageVocabSize]: row i is the distribution of image token i given the text and image tokens < i. */
  imageLogits(text: Tensor, image: Tensor): Tensor {
    this.checkInputs(text, image)
    const { hidden } = this.runPositions(this.textInputs(text), image, 0, this.sequenceLength)
    return this.image_head.forward(ops.slice(hidden, [undefined, { start: this.config.textLength }]))
  }

  /** The training objective on a batch (text i32 [N, T], image i32 [N, H·W]). */
  losses(text: Tensor, image: Tensor): PriorLosses {
    const c = this.config
    const { textLogits, imageLogits } = this.forward(text, image)
    const textCe = ops.crossEntropy(textLogits, this.textTargets(text))
    const imageCe = ops.crossEntropy(imageLogits, image)
    const total = c.textLossWeight + c.imageLossWeight
    const loss = ops.add(ops.mul(textCe, c.textLossWeight / total), ops.mul(imageCe, c.imageLossWeight / total))
    return { loss, textCe, imageCe }
  }

  /** What the text positions predict: the caption's ids, with every pad as the one class textVocabSize. */
  textTargets(text: Tensor): Tensor {
    return ops.where(ops.eq(text, this.config.padId), this.config.textVocabSize, text)
  }

  /**
   * Per-caption image loss (mean nats per image token) of each (caption, image) pair, without
   * gradients: f32 [N]. Lower = the prior finds the image likelier for the caption.
   */
  imageLossPerPair(text: Tensor, image: Tensor): Tensor {
    return noGrad(() =>
      tidy(() => {
        const logits = this.imageLogits(text, image)
        return ops.mean(ops.crossEntropy(logits, image, { reduction: 'none' }), -1)
      }),
    )
  }

  /** Samples image tokens for each caption (see GenerateOptions): i32 [captions·count, H·W]. */
  generate(captions: readonly (readonly number[] | Int32Array)[], opts: GenerateOptions = {}): Promise<Tensor> {
    return generateImageTokens(this, captions, opts)
  }

  override dispose(): void {
    super.dispose()
    for (const t of new Set(this.maskT)) t.dispose()
    for (const t of [this.padIds, this.slotRows, this.slotCols]) t.dispose()
  }
}
