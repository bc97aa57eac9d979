import { EpochSampler, gatherBatch, type ImageCaptionDataset, type SamplerState } from '@tessera/datasets'
import { loadTrainingCheckpoint, ops, optim, saveTrainingCheckpoint, tidy, type Tensor } from '@tessera/tensor-core'
import { DvaeConfigError, DvaeTrainingError } from '../errors.js'
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

export interface RunOptions {
  until?: number
  onStep?: (m: StepMetrics) => void
  onEval?: (m: EvalMetrics) => void
  evalSet?: ImageCaptionDataset
  evalEvery?: number
  /** Images of `evalSet` used by the periodic evaluations (default: all); the final one uses all. */
  evalCount?: number
  checkpointDir?: string
  checkpointEvery?: number
  /**
   * Stops the run at the next step boundary once aborted (Ctrl-C, a job's time limit): the step
   * in flight finishes, a checkpoint is written to `checkpointDir`, and `run` returns without
   * the final evaluation, so no trained step is lost and `resume` continues from there.
   */
  signal?: AbortSignal
  /**
   * After the first step, time the matmul variants for the shapes it ran (GPU adapters; the
   * winners persist per adapter, so later runs skip it). Worth it for long runs: on lavapipe
   * tuning the emoji-32 model's ~50 shape classes takes minutes. Default false.
   */
  autotune?: boolean
}

/** What a training checkpoint carries besides model, optimizer, step and device RNG. */
interface TrainerExtra {
  sampler: SamplerState
  codeUsage: number[]
  config: DiscreteVAE['config']
  /** The options the checkpoint was trained with (absent in checkpoints before 2026-11-27). */
  recipe?: Resolved
}

/** A step whose work is recorded and whose metrics are being read back (see `DvaeTrainer.run`). */
interface RecordedStep {
  step: number
  tau: number
  klWeight: number
  lr: number
  started: number
  tensors: Tensor[]
  values: Promise<[number, number, number, ArrayLike<number>]>
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
 * Checkpoints hold everything a run depends on (weights, optimizer moments, step, device RNG,
 * data position, code usage), so a resumed run continues bit for bit.
 */
export class DvaeTrainer {
  readonly options: Resolved
  readonly optimizer: optim.AdamW
  step = 0
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
  }

  /** One optimisation step on the next batch. */
  async trainStep(): Promise<StepMetrics> {
    return this.finishStep(this.recordStep())
  }

  /**
   * Records a step's work (forward, backward, clipping, AdamW) and starts reading its metrics
   * back, without waiting for them; all host state (step, data position, schedules) advances
   * here, so the next step can be recorded while the adapter still runs this one.
   */
  private recordStep(): RecordedStep {
    const started = performance.now()
    const { model } = this
    const device = model.device
    const step = this.step
    const tau = this.tau(step)
    const klWeight = this.beta(step)
    const lr = this.optimizer.currentLr()
    const batch = gatherBatch(this.data, this.sampler.next())
    const tensors = tidy(() => {
      const target = mapPixels(device.tensor(batch.images, batch.shape))
      const { loss, recon, kl, logits } = dvaeObjective(model, target, { tau, klWeight, codes: this.options.codes, loss: this.options.loss })
      loss.backward()
      if (this.options.gradClip !== null) optim.clipGradNorm(model.parameters(), this.options.gradClip)?.dispose()
      this.optimizer.step()
      this.optimizer.zeroGrad()
      return [loss, recon, kl, ops.argmax(logits, -1)]
    })
    const [lossT, reconT, klT, tokensT] = tensors
    const values = Promise.all([lossT!.item(), reconT!.item(), klT!.item(), tokensT!.read()])
    this.step++
    return { step, tau, klWeight, lr, started, tensors, values }
  }

  /** Waits for a recorded step's metrics; checks the loss and records code usage. */
  private async finishStep(recorded: RecordedStep): Promise<StepMetrics> {
    const { step, tau, klWeight, lr, started } = recorded
    let values: Awaited<RecordedStep['values']>
    try {
      values = await recorded.values
    } finally {
      for (const t of recorded.tensors) t.dispose()
    }
    const [loss, recon, kl, tokens] = values
    if (!Number.isFinite(loss)) {
      throw new DvaeTrainingError(`loss became ${loss} at step ${step} (recon ${recon}, kl ${kl}): lower the learning rate or clip gradients (gradClip), then resume from the last checkpoint`)
    }
    this.usage.record(step, tokens)
    return {
      step,
      loss,
      recon,
      kl,
      tau,
      klWeight,
      lr,
      perplexity: codebookPerplexity(tokens, this.model.config.vocabSize),
      deadCodes: this.usage.deadCodes(step),
      ms: performance.now() - started,
    }
  }

  /**
   * Trains until step `until` (default: the planned steps), calling `onStep` after every
   * step, evaluating on `evalSet` every `evalEvery` steps and on all of it at the end, and checkpointing
   * to `checkpointDir` every `checkpointEvery` steps and at the end (or when `signal` stops it early).
   *
   * One step is kept in flight: the host records step s+1 while the adapter still runs step s
   * (on a GPU the host's recording and the GPU's work then overlap instead of taking turns),
   * except before a step whose results must be complete first: an evaluation, a checkpoint,
   * autotuning, the end. The values are those of running the steps one at a time.
   */
  async run(opts: RunOptions = {}): Promise<EvalMetrics | null> {
    const until = opts.until ?? this.options.steps
    const evalEvery = opts.evalEvery ?? 0
    const checkpointEvery = opts.checkpointDir ? (opts.checkpointEvery ?? 0) : 0
    const evalDue = (s: number) => evalEvery > 0 && s % evalEvery === 0
    const checkpointDue = (s: number) => checkpointEvery > 0 && s % checkpointEvery === 0
    const isBoundary = (s: number) => s >= until || evalDue(s) || checkpointDue(s)
    let last: EvalMetrics | null = null
    const evaluate = async (count?: number) => {
      if (!opts.evalSet) return
      last = await this.evaluate(opts.evalSet, { count })
      opts.onEval?.(last)
    }
    let tuned = !opts.autotune
    let inFlight: RecordedStep | null = null
    for (;;) {
      if (opts.signal) await nextTask() // on the CPU backend a step never yields: let the abort (a signal handler, a click) run
      const stopping = opts.signal?.aborted === true
      const recordNext: boolean = !stopping && this.step < until && (inFlight === null || (tuned && !isBoundary(this.step)))
      const next: RecordedStep | null = recordNext ? this.recordStep() : null
      if (inFlight) {
        let metrics: StepMetrics
        try {
          metrics = await this.finishStep(inFlight)
        } catch (err) {
          if (next) await this.finishStep(next).catch(() => {}) // frees its tensors; the run is over
          throw err
        }
        // Not `onStep?.(await …)` on one line: without onStep that skipped the step.
        opts.onStep?.(metrics)
        if (!tuned) {
          // The first step ran every matmul shape of the model once: time the variants for those.
          await ops.autotuneSeenMatmuls(this.model.device)
          tuned = true
        }
      }
      inFlight = next
      if (inFlight) continue
      // Nothing in flight: the state is that after step `this.step`.
      if (stopping) {
        if (opts.checkpointDir) await this.saveCheckpoint(opts.checkpointDir)
        return last
      }
      if (this.step >= until) break
      if (evalDue(this.step)) await evaluate(opts.evalCount)
      if (checkpointDue(this.step)) await this.saveCheckpoint(opts.checkpointDir!)
    }
    await evaluate()
    if (opts.checkpointDir) await this.saveCheckpoint(opts.checkpointDir)
    return last
  }

  /** Reconstruction PSNR and code perplexity on (the first `count` images of) a dataset, with hard tokens. */
  async evaluate(dataset: ImageCaptionDataset, opts: { count?: number; batchSize?: number } = {}): Promise<EvalMetrics> {
    return evaluateReconstruction(this.model, dataset, { ...opts, step: this.step })
  }

  async saveCheckpoint(dir: string): Promise<void> {
    const extra: TrainerExtra = { sampler: this.sampler.state(), codeUsage: this.usage.state(), config: this.model.config, recipe: this.options }
    await saveTrainingCheckpoint(dir, { model: this.model, optimizer: this.optimizer, device: this.model.device, step: this.step, extra })
  }

  /**
   * Restores a checkpoint written by `saveCheckpoint`; false when `dir` holds none. Resuming
   * with other options is allowed (a longer run, say) and takes effect from the checkpoint's
   * step: `recipeChanges` then lists what differs, e.g. "steps 1800 → 3200", which reshapes the
   * LR and τ schedules mid-run, or "lr 0.004 → 0.002", the new peak LR (train-emoji.mjs prints
   * it). Checkpoints older than the recipe record still report a changed LR.
   */
  async resume(dir: string): Promise<boolean> {
    const state = await loadTrainingCheckpoint<TrainerExtra>(dir, { model: this.model, optimizer: this.optimizer, device: this.model.device })
    if (!state) return false
    this.step = state.step
    this.sampler.setState(state.extra.sampler)
    this.usage.setState(state.extra.codeUsage)
    // The optimizer restored its saved base LR; the recipe given now governs, as for the schedules.
    const savedLr = this.optimizer.lr
    this.optimizer.lr = this.options.lr
    const saved = state.extra.recipe
    this.recipeChanges = saved
      ? Object.entries(this.options)
          .map(([key, value]) => [key, JSON.stringify(saved[key as keyof Resolved]), JSON.stringify(value)])
          .filter(([, was, now]) => was !== now)
          .map(([key, was, now]) => `${key} ${was} → ${now}`)
      : savedLr !== this.options.lr
        ? [`lr ${savedLr} → ${this.options.lr}`]
        : []
    return true
  }

  /** Options that differ from those of the checkpoint the last `resume` loaded (see `resume`). */
  recipeChanges: string[] = []

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

/** Resolves after the tasks already queued (timers, signal handlers, UI events) have run. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))
}
