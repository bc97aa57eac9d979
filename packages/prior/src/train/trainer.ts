import { EpochSampler, fnv1a, Mulberry32, type SamplerState } from '@tessera/datasets'
import type { TextTokenizer } from '@tessera/plugins'
import { noGrad, optim, tidy, Trainer, type HostArray, type RecordedStep, type ResumedCheckpoint, type TrainerRunOptions, type TrainingTask, io } from '@tessera/tensor-core'
import { captionIds } from '../captions.js'
import type { TokenDataset } from '../data.js'
import { PriorConfigError } from '../errors.js'
import type { Prior } from '../prior.js'

export interface PriorTrainOptions {
  /** Planned length: the LR schedule is laid out over it. */
  steps: number
  batchSize: number
  /** Peak AdamW learning rate (default 1e-3) after `warmupSteps`, cosine-decayed to lr·minLrFactor. */
  lr?: number
  warmupSteps?: number
  minLrFactor?: number
  weightDecay?: number
  /** Clip the global gradient norm (default 1). */
  gradClip?: number
  /** BPE-dropout of the captions (default 0.1, as DALL·E). */
  bpeDropout?: number
  /** Share of captions replaced by the null caption (all pads), for classifier-free guidance (default 0.1). */
  nullCaptionProb?: number
  /** Seed of the data order, BPE-dropout and null captions. */
  dataSeed?: number
}

export type ResolvedPriorTrainOptions = Required<PriorTrainOptions>

export interface PriorStepMetrics {
  step: number
  loss: number
  /** Cross-entropy of the text / image positions, nats per token. */
  textCe: number
  imageCe: number
  lr: number
  ms: number
}

export interface PriorEvalMetrics {
  step: number
  /** Mean cross-entropy over the evaluated pairs' text / image positions (no dropout, real captions). */
  textCe: number
  imageCe: number
  /** exp(imageCe): how many image codes the prior is choosing between, on average. */
  imagePerplexity: number
  pairs: number
}

interface PriorTrainerState {
  sampler: SamplerState
}

function resolve(opts: PriorTrainOptions): ResolvedPriorTrainOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as PriorTrainOptions
  const r: ResolvedPriorTrainOptions = {
    lr: 1e-3,
    warmupSteps: Math.min(200, Math.floor(opts.steps / 10)),
    minLrFactor: 0.1,
    weightDecay: 0.01,
    gradClip: 1,
    bpeDropout: 0.1,
    nullCaptionProb: 0.1,
    dataSeed: 0,
    ...given,
  }
  if (!Number.isInteger(r.steps) || r.steps < 1) throw new PriorConfigError(`training steps must be a positive integer, got ${r.steps}`)
  if (!Number.isInteger(r.batchSize) || r.batchSize < 1) throw new PriorConfigError(`batch size must be a positive integer, got ${r.batchSize}`)
  for (const key of ['bpeDropout', 'nullCaptionProb'] as const) if (!(r[key] >= 0 && r[key] < 1)) throw new PriorConfigError(`${key} must be in [0, 1), got ${r[key]}`)
  return r
}

/** A caption batch as i32 ids [N, T] (host). */
function encodeBatch(prior: Prior, tokenizer: Pick<TextTokenizer, 'encode'>, captions: readonly string[], draw?: { dropout: number; nullProb: number; seed: number }): Int32Array {
  const { textLength: T, padId } = prior.config
  const out = new Int32Array(captions.length * T)
  const rng = draw ? new Mulberry32(draw.seed) : null
  captions.forEach((caption, k) => {
    if (rng && rng.next() < draw!.nullProb) return out.fill(padId, k * T, (k + 1) * T)
    out.set(captionIds(tokenizer, caption, T, padId, { truncate: true, dropout: draw?.dropout, seed: rng ? Math.floor(rng.next() * 2 ** 32) : undefined }), k * T)
  })
  return out
}

/**
 * Trains a Prior on caption + image-token pairs with tensor-core's Trainer: AdamW with warmup
 * and cosine decay, gradient clipping, BPE-dropout on the captions and null captions for
 * guidance; checkpoints hold the data position too, and every random draw is a function of
 * (dataSeed, step), so a resumed run continues bit for bit.
 */
export class PriorTrainer {
  readonly options: ResolvedPriorTrainOptions
  readonly optimizer: optim.AdamW
  private readonly trainer: Trainer<PriorStepMetrics, PriorTrainerState>
  private readonly sampler: EpochSampler

  constructor(
    readonly prior: Prior,
    readonly data: TokenDataset,
    readonly tokenizer: Pick<TextTokenizer, 'encode'>,
    opts: PriorTrainOptions,
  ) {
    const o = (this.options = resolve(opts))
    if (data.imageLength !== prior.imageLength) throw new PriorConfigError(`the dataset has ${data.imageLength} image tokens per pair, the prior's grid ${prior.imageLength}`)
    this.optimizer = new optim.AdamW(prior.namedParameters(), { lr: o.lr, weightDecay: o.weightDecay, schedule: optim.warmupCosine(o.steps, o.warmupSteps, o.minLrFactor) })
    this.sampler = new EpochSampler(data.length, o.batchSize, o.dataSeed)
    const task: TrainingTask<PriorStepMetrics, PriorTrainerState> = {
      model: prior,
      optimizer: this.optimizer,
      device: prior.device,
      recipe: { ...o },
      recordStep: (step) => this.recordStep(step),
      state: () => ({ sampler: this.sampler.state() }),
      setState: (s) => this.sampler.setState(s.sampler),
    }
    this.trainer = new Trainer(task)
  }

  get step(): number {
    return this.trainer.step
  }

  /** Options that differ from those of the checkpoint the last `resume` loaded. */
  get recipeChanges(): string[] {
    return this.trainer.recipeChanges
  }

  private recordStep(step: number): RecordedStep<PriorStepMetrics> {
    const started = performance.now()
    const o = this.options
    const { prior, data } = this
    const device = prior.device
    const lr = this.optimizer.currentLr()
    const indices = this.sampler.next()
    const HW = data.imageLength
    const image = new Int32Array(indices.length * HW)
    indices.forEach((i, k) => image.set(data.imageTokens.subarray(i * HW, (i + 1) * HW), k * HW))
    const text = encodeBatch(
      prior,
      this.tokenizer,
      indices.map((i) => data.captions[i]!),
      { dropout: o.bpeDropout, nullProb: o.nullCaptionProb, seed: fnv1a(`${o.dataSeed}:${step}`) },
    )
    const read = tidy(() => {
      const { loss, textCe, imageCe } = prior.losses(device.tensor(text, [indices.length, prior.config.textLength]), device.tensor(image, [indices.length, HW]))
      loss.backward()
      optim.clipGradNorm(prior.parameters(), o.gradClip)?.dispose()
      this.optimizer.step()
      this.optimizer.zeroGrad()
      return [loss, textCe, imageCe]
    })
    return {
      read,
      metrics: ([loss, textCe, imageCe]: HostArray[]) => ({ step, loss: loss![0]!, textCe: textCe![0]!, imageCe: imageCe![0]!, lr, ms: performance.now() - started }),
    }
  }

  /** One step, waited for. */
  trainStep(): Promise<PriorStepMetrics> {
    return this.trainer.trainStep()
  }

  /**
   * Trains until step `until` (default: the planned steps), evaluating on `evalSet` every
   * `evalEvery` steps and at the end, checkpointing to `checkpointDir` every `checkpointEvery`
   * steps, at the end, and when `signal` aborts (the run then returns at the next step boundary).
   */
  run(opts: {
    until?: number
    onStep?: (m: PriorStepMetrics) => void
    evalSet?: TokenDataset
    evalEvery?: number
    evalCount?: number
    onEval?: (m: PriorEvalMetrics) => void
    checkpointDir?: string
    checkpointEvery?: number
    /** Hears each checkpoint written (see tensor-core's `TrainerRunOptions.onCheckpoint`). */
    onCheckpoint?: TrainerRunOptions<PriorStepMetrics, PriorEvalMetrics>['onCheckpoint']
    signal?: AbortSignal
    /** Time the matmul variants for this model's shapes after the first step (see tensor-core's Trainer). */
    autotune?: boolean
  } = {}): Promise<PriorEvalMetrics | null> {
    const { evalSet } = opts
    return this.trainer.run<PriorEvalMetrics>({
      until: opts.until ?? this.options.steps,
      onStep: opts.onStep,
      evaluate: evalSet ? ({ final }) => this.evaluate(evalSet, { count: final ? undefined : opts.evalCount }) : undefined,
      evalEvery: opts.evalEvery,
      onEval: opts.onEval,
      checkpointDir: opts.checkpointDir,
      checkpointEvery: opts.checkpointEvery,
      onCheckpoint: opts.onCheckpoint,
      signal: opts.signal,
      autotune: opts.autotune,
    })
  }

  /** Mean text and image cross-entropy on (the first `count` pairs of) a dataset: real captions, no dropout. */
  async evaluate(dataset: TokenDataset, opts: { count?: number; batchSize?: number } = {}): Promise<PriorEvalMetrics> {
    return evaluatePrior(this.prior, dataset, this.tokenizer, { ...opts, step: this.step })
  }

  saveCheckpoint(dir: string): Promise<io.SavedCheckpoint> {
    return this.trainer.saveCheckpoint(dir)
  }

  /**
   * Restores a checkpoint written by this trainer; false when `dir` holds none, else the step
   * and file it loaded, with `fallback` set when current was damaged or missing and prev was used.
   */
  resume(dir: string, options?: io.LoadCheckpointOptions): Promise<ResumedCheckpoint | false> {
    return this.trainer.resume(dir, options)
  }

  dispose(): void {
    this.optimizer.dispose()
  }
}

/** Mean text and image cross-entropy of a prior on caption + token pairs (eval mode, no gradients). */
export async function evaluatePrior(
  prior: Prior,
  dataset: TokenDataset,
  tokenizer: Pick<TextTokenizer, 'encode'>,
  opts: { count?: number; batchSize?: number; step?: number } = {},
): Promise<PriorEvalMetrics> {
  const count = Math.min(opts.count ?? dataset.length, dataset.length)
  const batchSize = opts.batchSize ?? 64
  const HW = dataset.imageLength
  const T = prior.config.textLength
  const wasTraining = prior.training
  prior.eval()
  let textSum = 0
  let imageSum = 0
  try {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start)
      const text = encodeBatch(prior, tokenizer, dataset.captions.slice(start, start + n))
      const image = dataset.imageTokens.subarray(start * HW, (start + n) * HW)
      const [t, i] = noGrad(() =>
        tidy(() => {
          const { textCe, imageCe } = prior.losses(prior.device.tensor(text, [n, T]), prior.device.tensor(image, [n, HW]))
          return [textCe, imageCe]
        }),
      )
      textSum += (await t!.item()) * n
      imageSum += (await i!.item()) * n
      t!.dispose()
      i!.dispose()
    }
  } finally {
    prior.train(wasTraining)
  }
  return { step: opts.step ?? 0, textCe: textSum / count, imageCe: imageSum / count, imagePerplexity: Math.exp(imageSum / count), pairs: count }
}
