import { EpochSampler, Mulberry32, type ImageCaptionDataset, type SamplerState } from '@tessera/datasets'
import { ops, optim, tidy, Trainer, type HostArray, type RecordedStep, type TrainingTask } from '@tessera/tensor-core'
import type { CLIP } from '../clip.js'
import { ClipConfigError } from '../errors.js'
import { CLIP_MEAN, CLIP_STD, preprocessPixels } from '../preprocess.js'
import { checkTokenizer, tokenRows, type ClipTextTokenizer } from '../tokenizer.js'
import { clipObjective } from './loss.js'
import { GroupedAdamW } from './optimizer.js'

export interface ClipTrainOptions {
  /** Planned length: the LR schedule (warmup, then cosine) is laid out over it. */
  steps: number
  /** Pairs per batch: each is contrasted with the batch's other N − 1 captions and images. */
  batchSize: number
  /** Peak AdamW learning rate (default 5e-4), after `warmupSteps` (default min(500, steps/10)), cosine-decayed to lr·minLrFactor (default 0.1). */
  lr?: number
  warmupSteps?: number
  minLrFactor?: number
  /** Decoupled weight decay of rank ≥ 2 weights (default 0.2, as OpenAI's); gains, biases and logit_scale are not decayed. */
  weightDecay?: number
  /** Adam's betas and eps (OpenAI's ViT recipe: 0.9, 0.98, 1e-6). */
  beta1?: number
  beta2?: number
  eps?: number
  /** Clip the global gradient norm (default 1; 0 = off). */
  gradClip?: number
  /** Seed of the data order and augmentation. */
  dataSeed?: number
  /** Augmentation: shift each training image by up to this many pixels in x and y, filling with white (default 0). */
  shift?: number
}

export type ResolvedClipTrainOptions = Required<ClipTrainOptions>

export interface ClipStepMetrics {
  step: number
  /** Symmetric InfoNCE of the batch (nats). */
  loss: number
  lr: number
  /** exp(logit_scale) after the step (the inverse temperature, at most 100). */
  logitScale: number
  /** Fraction of the batch's images whose own caption scored highest among the batch's captions. */
  batchAccuracy: number
  ms: number
}

interface ClipTaskState {
  sampler: SamplerState
  [key: string]: unknown
}

function resolve(opts: ClipTrainOptions): ResolvedClipTrainOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as ClipTrainOptions
  const r: ResolvedClipTrainOptions = {
    lr: 5e-4,
    warmupSteps: Math.min(500, Math.floor(opts.steps / 10)),
    minLrFactor: 0.1,
    weightDecay: 0.2,
    beta1: 0.9,
    beta2: 0.98,
    eps: 1e-6,
    gradClip: 1,
    dataSeed: 0,
    shift: 0,
    ...given,
  }
  if (!Number.isInteger(r.steps) || r.steps < 1) throw new ClipConfigError(`training steps must be a positive integer, got ${r.steps}`)
  if (!Number.isInteger(r.batchSize) || r.batchSize < 2) throw new ClipConfigError(`contrastive training needs batches of at least 2 pairs, got ${r.batchSize}`)
  if (!Number.isInteger(r.shift) || r.shift < 0) throw new ClipConfigError(`shift must be a non-negative integer, got ${r.shift}`)
  return r
}

/**
 * CLIP's contrastive training as a TrainingTask: a batch of pairs from the dataset (images
 * normalised and captions tokenised once, up front), symmetric InfoNCE, global-norm clipping,
 * AdamW with warmup + cosine, then logit_scale clamped to [0, ln 100] as OpenAI's.
 */
export class ClipTrainingTask implements TrainingTask<ClipStepMetrics, ClipTaskState> {
  readonly options: ResolvedClipTrainOptions
  readonly optimizer: GroupedAdamW
  readonly recipe: Record<string, unknown>
  private readonly sampler: EpochSampler
  private readonly images: Float32Array
  private readonly tokens: Int32Array

  constructor(
    readonly model: CLIP,
    tokenizer: ClipTextTokenizer,
    data: ImageCaptionDataset,
    opts: ClipTrainOptions,
  ) {
    this.options = resolve(opts)
    const o = this.options
    checkTokenizer(tokenizer, model.config.vocabSize)
    if (data.length < o.batchSize) throw new ClipConfigError(`the dataset has ${data.length} pairs, fewer than a batch of ${o.batchSize}`)
    this.images = preprocessPixels(data.images, data.imageSize, model.config.imageResolution)
    this.tokens = tokenRows(tokenizer, data.captions, model.config.contextLength)
    this.optimizer = new GroupedAdamW(model.namedParameters(), {
      lr: o.lr,
      betas: [o.beta1, o.beta2],
      eps: o.eps,
      weightDecay: o.weightDecay,
      schedule: optim.warmupThen(o.warmupSteps, optim.cosineDecay(o.steps - o.warmupSteps, o.minLrFactor)),
    })
    this.sampler = new EpochSampler(data.length, o.batchSize, o.dataSeed)
    this.recipe = { ...o }
  }

  get device() {
    return this.model.device
  }

  recordStep(step: number): RecordedStep<ClipStepMetrics> {
    const started = performance.now()
    const { model } = this
    const o = this.options
    const lr = this.optimizer.currentLr()
    const indices = this.sampler.next()
    const r = model.config.imageResolution
    const l = model.config.contextLength
    const per = 3 * r * r
    const images = new Float32Array(indices.length * per)
    const tokens = new Int32Array(indices.length * l)
    // The shifts are drawn from (seed, step): nothing to save for an exact resume.
    const rng = o.shift > 0 ? new Mulberry32((o.dataSeed * 0x9e3779b1 + step * 0x85ebca6b + 1) >>> 0) : null
    indices.forEach((index, k) => {
      const src = this.images.subarray(index * per, (index + 1) * per)
      if (rng) shiftInto(src, images.subarray(k * per, (k + 1) * per), r, rng.int(2 * o.shift + 1) - o.shift, rng.int(2 * o.shift + 1) - o.shift)
      else images.set(src, k * per)
      tokens.set(this.tokens.subarray(index * l, (index + 1) * l), k * l)
    })
    const read = tidy(() => {
      const { loss, logitsPerImage } = clipObjective(model, model.device.tensor(images, [indices.length, 3, r, r]), model.device.tensor(tokens, [indices.length, l]))
      loss.backward()
      if (o.gradClip > 0) optim.clipGradNorm(model.parameters(), o.gradClip)?.dispose()
      this.optimizer.step()
      this.optimizer.zeroGrad()
      model.clampLogitScale()
      return [loss, ops.exp(model.logitScale), ops.argmax(logitsPerImage, -1)]
    })
    return {
      read,
      metrics: (values: HostArray[]) => {
        const best = values[2]!
        let hits = 0
        for (let i = 0; i < best.length; i++) if (best[i] === i) hits++
        return { step, loss: values[0]![0]!, lr, logitScale: values[1]![0]!, batchAccuracy: hits / best.length, ms: performance.now() - started }
      },
    }
  }

  state(): ClipTaskState {
    return { sampler: this.sampler.state() }
  }

  setState(state: ClipTaskState): void {
    this.sampler.setState(state.sampler)
  }

  dispose(): void {
    this.optimizer.dispose()
  }
}

/** One normalised image [3, r, r] shifted by (dx, dy) into `out`, uncovered pixels white. */
function shiftInto(src: Float32Array, out: Float32Array, r: number, dx: number, dy: number): void {
  for (let c = 0; c < 3; c++) {
    const white = (1 - CLIP_MEAN[c]!) / CLIP_STD[c]!
    for (let y = 0; y < r; y++) {
      const sy = y - dy
      for (let x = 0; x < r; x++) {
        const sx = x - dx
        out[(c * r + y) * r + x] = sy >= 0 && sy < r && sx >= 0 && sx < r ? src[(c * r + sy) * r + sx]! : white
      }
    }
  }
}

/** The generic training loop over a ClipTrainingTask: `run`, `resume`, `saveCheckpoint`, `step`. */
export class ClipTrainer extends Trainer<ClipStepMetrics, ClipTaskState> {
  override readonly task: ClipTrainingTask

  constructor(model: CLIP, tokenizer: ClipTextTokenizer, data: ImageCaptionDataset, opts: ClipTrainOptions) {
    const task = new ClipTrainingTask(model, tokenizer, data, opts)
    super(task)
    this.task = task
  }

  get options(): ResolvedClipTrainOptions {
    return this.task.options
  }

  dispose(): void {
    this.task.dispose()
  }
}
