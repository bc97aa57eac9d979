import { EpochSampler, gatherBatch, type ImageCaptionDataset, type SamplerState } from '@tessera/datasets'
import { ops, optim, tidy, Trainer, type RecordedStep, type ResumedCheckpoint, type TrainerRunOptions, io } from '@tessera/tensor-core'
import { DvaeConfigError } from '../errors.js'
import type { DiscreteVAE, EncodeOptions } from '../dvae.js'
import { mapPixels } from '../pixels.js'
import { dvaeObjective, type CodeRelaxation } from './objective.js'
import { codebookPerplexity, CodeUsage, psnr } from './metrics.js'

export interface TrainOptions {
  /** Planned length: the LR, temperature and KL schedules are laid out over it. */
  steps: number
  batchSize: number
  /** Peak learning rate of AdamW (default 1e-3), after `warmupSteps`, cosine-decayed to lr·minLrFactor. */
  lr?: number
  warmupSteps?: number
  minLrFactor?: number
  weightDecay?: number
  /** Gumbel-softmax temperature: exponential anneal from tauStart (1) to tauEnd (1/16) over tauSteps (default: steps). */
  tauStart?: number
  tauEnd?: number
  tauSteps?: number
  /** Shape of the temperature anneal (default 'exponential'). */
  tauSchedule?: 'exponential' | 'cosine'
  /** KL-to-uniform weight β, ramped linearly from 0 over klWarmupSteps (default: steps/4). Paper: 6.6. */
  klWeight?: number
  klWarmupSteps?: number
  /**
   * Codes the decoder trains on: gumbel-softmax samples (default) or 'straight-through' hard
   * argmax codes, for fine-tuning a trained model on the codes inference uses.
   */
  codes?: CodeRelaxation
  /** Reconstruction loss: the paper's logit-Laplace NLL (default) or MSE on sigmoid(μ). */
  loss?: 'logit-laplace' | 'mse'
  /** Clip the global gradient norm (default: no clipping). */
  gradClip?: number
  /** Seed of the data order (the gumbel noise comes from the device's random stream). */
  dataSeed?: number
  /** A code counts as dead after this many steps unused (default 100). */
  deadCodeWindow?: number
}

export interface StepMetrics {
  step: number
  loss: number
  /** Reconstruction term per sub-pixel (logit-Laplace NLL in nats, or MSE). */
  recon: number
  /** KL to the uniform prior, nats per token. */
  kl: number
  tau: number
  klWeight: number
  lr: number
  /** exp(entropy) of the argmax codes of this batch. */
  perplexity: number
  /** Codes unused for the last `deadCodeWindow` steps. */
  deadCodes: number
  ms: number
}

export interface EvalMetrics {
  step: number
  /** Reconstruction PSNR (dB) of encode → decode with hard tokens (argmax, or searched when asked). */
  psnr: number
  /** Codebook perplexity over all tokens of the evaluated images. */
  perplexity: number
  images: number
}

export interface RunOptions extends Omit<TrainerRunOptions<StepMetrics, EvalMetrics>, 'until' | 'evaluate'> {
  /** Train until this step (default: the planned `steps`). */
  until?: number
  /** Held-out images: reconstruction PSNR every `evalEvery` steps and at the end. */
  evalSet?: ImageCaptionDataset
  /** Images of `evalSet` used by the periodic evaluations (default: all); the final one uses all. */
  evalCount?: number
}

/**
 * What a dVAE checkpoint carries besides model, optimizer, step and device RNG. tensor-core's
 * Trainer saves the recipe (the resolved options) beside these fields, as this trainer did
 * before the loop moved there (checkpoints before 2026-11-27 have none), so either loads.
 */
interface TrainerState {
  sampler: SamplerState
  codeUsage: number[]
  config: DiscreteVAE['config']
}

type Resolved = Required<Omit<TrainOptions, 'gradClip'>> & { gradClip: number | null }

function resolve(opts: TrainOptions): Resolved {
  // Options given as undefined take their defaults too.
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as TrainOptions
  const r: Resolved = {
    lr: 1e-3,
    warmupSteps: Math.min(100, Math.floor(opts.steps / 10)),
    minLrFactor: 0.1,
    weightDecay: 1e-4,
    tauStart: 1,
    tauEnd: 1 / 16,
    tauSteps: opts.steps,
    tauSchedule: 'exponential',
    klWeight: 6.6,
    klWarmupSteps: Math.floor(opts.steps / 4),
    codes: 'gumbel',
    loss: 'logit-laplace',
    dataSeed: 0,
    deadCodeWindow: 100,
    ...given,
    gradClip: given.gradClip ?? null,
  }
  if (!Number.isInteger(r.steps) || r.steps < 1) throw new DvaeConfigError(`training steps must be a positive integer, got ${r.steps}`)
  if (!Number.isInteger(r.batchSize) || r.batchSize < 1) throw new DvaeConfigError(`batch size must be a positive integer, got ${r.batchSize}`)
  if (!(r.tauStart > 0 && r.tauEnd > 0)) throw new DvaeConfigError(`temperatures must be > 0, got ${r.tauStart} → ${r.tauEnd}`)
  if (r.tauSchedule !== 'exponential' && r.tauSchedule !== 'cosine') throw new DvaeConfigError(`tauSchedule must be 'exponential' or 'cosine', got '${r.tauSchedule}'`)
  if (r.codes !== 'gumbel' && r.codes !== 'straight-through') throw new DvaeConfigError(`codes must be 'gumbel' or 'straight-through', got '${r.codes}'`)
  if (r.loss !== 'logit-laplace' && r.loss !== 'mse') throw new DvaeConfigError(`loss must be 'logit-laplace' or 'mse', got '${r.loss}'`)
  return r
}

/**
 * Trains a DiscreteVAE on an image dataset: gumbel-softmax relaxation with temperature
 * annealing (or straight-through argmax codes, to fine-tune), KL to the uniform prior with a
 * ramped weight, logit-Laplace (or MSE) reconstruction, AdamW with warmup + cosine decay.
 * The loop (one step in flight, cadences, abort, checkpoints) is tensor-core's `Trainer`; this
 * class is the dVAE's step, its data order and code usage, which checkpoints carry along with
 * weights, optimizer moments, step and device RNG, so a resumed run continues bit for bit.
 */
export class DvaeTrainer {
  readonly options: Resolved
  readonly optimizer: optim.AdamW
  private readonly trainer: Trainer<StepMetrics, TrainerState>
  private readonly sampler: EpochSampler
  private readonly usage: CodeUsage
  private readonly tau: (step: number) => number
  private readonly beta: (step: number) => number

  constructor(
    readonly model: DiscreteVAE,
    readonly data: ImageCaptionDataset,
    opts: TrainOptions,
  ) {
    this.options = resolve(opts)
    const o = this.options
    if (data.imageSize % 2 ** (model.config.groupCount - 1) !== 0) {
      throw new DvaeConfigError(`dataset images are ${data.imageSize} px, not a multiple of the model's downsampling 2^(groupCount−1)`)
    }
    this.optimizer = new optim.AdamW(model.namedParameters(), {
      lr: o.lr,
      weightDecay: o.weightDecay,
      schedule: optim.warmupCosine(o.steps, o.warmupSteps, o.minLrFactor),
    })
    this.sampler = new EpochSampler(data.length, o.batchSize, o.dataSeed)
    this.usage = new CodeUsage(model.config.vocabSize, o.deadCodeWindow)
    this.tau = (o.tauSchedule === 'cosine' ? optim.cosineAnneal : optim.exponentialAnneal)(o.tauStart, o.tauEnd, o.tauSteps)
    this.beta = optim.linearRamp(o.klWeight, o.klWarmupSteps)
    this.trainer = new Trainer<StepMetrics, TrainerState>({
      model,
      optimizer: this.optimizer,
      device: model.device,
      recipe: o,
      recordStep: (step) => this.recordStep(step),
      state: () => ({ sampler: this.sampler.state(), codeUsage: this.usage.state(), config: model.config }),
      setState: (state) => {
        this.sampler.setState(state.sampler)
        this.usage.setState(state.codeUsage)
      },
    })
  }

  /** Steps trained so far: the index of the next one. */
  get step(): number {
    return this.trainer.step
  }

  /** One optimisation step on the next batch. */
  async trainStep(): Promise<StepMetrics> {
    return this.trainer.trainStep()
  }

  /**
   * Records a step's work (forward, backward, clipping, AdamW) on the next batch; the data
   * position and schedules advance here, so the Trainer can record the next step while the
   * adapter still runs this one.
   */
  private recordStep(step: number): RecordedStep<StepMetrics> {
    const started = performance.now()
    const { model } = this
    const device = model.device
    const tau = this.tau(step)
    const klWeight = this.beta(step)
    const lr = this.optimizer.currentLr()
    const batch = gatherBatch(this.data, this.sampler.next())
    const read = tidy(() => {
      const target = mapPixels(device.tensor(batch.images, batch.shape))
      const { loss, recon, kl, logits } = dvaeObjective(model, target, { tau, klWeight, codes: this.options.codes, loss: this.options.loss })
      loss.backward()
      if (this.options.gradClip !== null) optim.clipGradNorm(model.parameters(), this.options.gradClip)?.dispose()
      this.optimizer.step()
      this.optimizer.zeroGrad()
      return [loss, recon, kl, ops.argmax(logits, -1)]
    })
    return {
      read,
      metrics: ([loss, recon, kl, tokens]) => {
        this.usage.record(step, tokens!)
        return {
          step,
          loss: loss![0]!,
          recon: recon![0]!,
          kl: kl![0]!,
          tau,
          klWeight,
          lr,
          perplexity: codebookPerplexity(tokens!, this.model.config.vocabSize),
          deadCodes: this.usage.deadCodes(step),
          ms: performance.now() - started,
        }
      },
    }
  }

  /**
   * Trains until step `until` (default: the planned steps), calling `onStep` after every
   * step, evaluating on `evalSet` every `evalEvery` steps (its first `evalCount` images) and on
   * all of it at the end, and checkpointing to `checkpointDir` every `checkpointEvery` steps and
   * at the end (or when `signal` stops it early). One step is kept in flight (see tensor-core's
   * `Trainer.run`); the values are those of running the steps one at a time.
   */
  async run(opts: RunOptions = {}): Promise<EvalMetrics | null> {
    const { until, evalSet, evalCount, ...loop } = opts
    return this.trainer.run({
      ...loop,
      until: until ?? this.options.steps,
      evaluate: evalSet && (({ final }) => this.evaluate(evalSet, { count: final ? undefined : evalCount })),
    })
  }

  /** Reconstruction PSNR and code perplexity on (the first `count` images of) a dataset, with hard tokens. */
  async evaluate(dataset: ImageCaptionDataset, opts: { count?: number; batchSize?: number } = {}): Promise<EvalMetrics> {
    return evaluateReconstruction(this.model, dataset, { ...opts, step: this.step })
  }

  async saveCheckpoint(dir: string): Promise<io.SavedCheckpoint> {
    return this.trainer.saveCheckpoint(dir)
  }

  /**
   * Restores a checkpoint written by `saveCheckpoint`; false when `dir` holds none, else the
   * step and file it loaded (`fallback` set when current was damaged or missing). Resuming
   * with other options is allowed (a longer run, say) and takes effect from the checkpoint's
   * step: `recipeChanges` then lists what differs, e.g. "steps 1800 → 3200", which reshapes the
   * LR and τ schedules mid-run, or "lr 0.004 → 0.002", the new peak LR (tessera train dvae prints
   * it). Checkpoints older than the recipe record still report a changed LR.
   */
  async resume(dir: string, options?: io.LoadCheckpointOptions): Promise<ResumedCheckpoint | false> {
    return this.trainer.resume(dir, options)
  }

  /** Options that differ from those of the checkpoint the last `resume` loaded (see `resume`). */
  get recipeChanges(): string[] {
    return this.trainer.recipeChanges
  }

  dispose(): void {
    this.optimizer.dispose()
  }
}

/**
 * Encodes and decodes images with hard tokens (the argmax, or `search`ed: see EncodeOptions);
 * PSNR against the originals and code perplexity.
 */
export async function evaluateReconstruction(
  model: DiscreteVAE,
  dataset: ImageCaptionDataset,
  opts: { count?: number; batchSize?: number; step?: number; search?: EncodeOptions['search'] } = {},
): Promise<EvalMetrics> {
  const count = Math.min(opts.count ?? dataset.length, dataset.length)
  const batchSize = opts.batchSize ?? 64
  const size = 3 * dataset.imageSize * dataset.imageSize
  const recon = new Float32Array(count * size)
  const tokens: number[] = []
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i)
    const batch = gatherBatch(dataset, indices)
    const [imagesT, tokensT] = tidy(() => {
      const t = model.encode(model.device.tensor(batch.images, batch.shape), { search: opts.search })
      return [model.decode(t), t]
    })
    recon.set(await imagesT.read(), start * size)
    tokens.push(...(await tokensT.read()))
    imagesT.dispose()
    tokensT.dispose()
  }
  return {
    step: opts.step ?? 0,
    psnr: psnr(recon, dataset.images.subarray(0, count * size)),
    perplexity: codebookPerplexity(tokens, model.config.vocabSize),
    images: count,
  }
}
