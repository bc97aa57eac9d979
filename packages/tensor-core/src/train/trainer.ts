import { autotuneSeenMatmuls } from '../autotune.js'
import type { Device } from '../device.js'
import type { HostArray } from '../dtype.js'
import { TesseraError } from '../errors.js'
import type { Module } from '../nn/module.js'
import type { Optimizer } from '../optim/optimizer.js'
import type { Tensor } from '../tensor.js'
import type { LoadCheckpointOptions, SavedCheckpoint } from '../io/node-checkpoint.js'
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type CheckpointSource } from './checkpoint.js'

/** What `Trainer.resume` restored: the step, the file, and whether it had to fall back to prev. */
export interface ResumedCheckpoint extends CheckpointSource {
  step: number
}

/** Training that cannot go on (a non-finite loss); the message says what to change. */
export class TrainingError extends TesseraError {
  static override readonly code: string = 'training'
}

/** What the trainer needs of a step's metrics: the loss, checked for finiteness. */
export interface StepResult {
  loss: number
}

/** A step whose work is recorded; its results come back later (see `TrainingTask.recordStep`). */
export interface RecordedStep<Metrics extends StepResult> {
  /**
   * Tensors to bring back to the host (the loss, metric tensors). The trainer starts reading
   * them at once, so the reads queue right behind this step's work, and frees them once read.
   */
  read: readonly Tensor[]
  /**
   * The step's metrics from the values read (one array per tensor of `read`, in order). Called
   * in step order, so host bookkeeping here (code usage, running means) sees the steps in sequence.
   */
  metrics(values: HostArray[]): Metrics
}

/**
 * One model's training, as the generic `Trainer` drives it. The task knows the model and its
 * data; the trainer knows nothing of either, only when to step, evaluate, checkpoint and stop.
 */
export interface TrainingTask<Metrics extends StepResult, State extends object = Record<string, unknown>> {
  readonly model: Module
  readonly optimizer: Optimizer
  /** The model's device: checkpoints keep its random stream, autotuning times its matmuls. */
  readonly device: Device
  /**
   * Records step `step` (0-based): forward, backward, gradient clipping, `optimizer.step()` and
   * `zeroGrad()`, typically in one `tidy` that returns the tensors to read. Must not wait for
   * the device: every piece of host state a step depends on (data position, schedules) advances
   * here, so the next step can be recorded while the device still runs this one.
   */
  recordStep(step: number): RecordedStep<Metrics>
  /**
   * The options the run was configured with, as JSON. Checkpoints keep it, and `resume` lists
   * the entries that differ (`Trainer.recipeChanges`).
   */
  readonly recipe?: Record<string, unknown>
  /**
   * JSON the checkpoint keeps besides model, optimizer, step and device RNG: whatever else an
   * exact resume needs (the data sampler's position, metric windows). Saved with the recipe
   * beside its fields, so its own fields must not be named `recipe`.
   */
  state?(): State
  setState?(state: State): void
}

export interface TrainerRunOptions<Metrics extends StepResult, Eval> {
  /** Train until the step counter reaches this. */
  until: number
  onStep?: (metrics: Metrics) => void
  /**
   * Evaluates the model as it is after `step` steps: every `evalEvery` steps (`final` false) and
   * once at the end of a run that was not stopped (`final` true).
   */
  evaluate?: (at: { step: number; final: boolean }) => Promise<Eval>
  evalEvery?: number
  onEval?: (result: Eval) => void
  /** Checkpoints go here every `checkpointEvery` steps, at the end and when `signal` stops the run. */
  checkpointDir?: string
  checkpointEvery?: number
  /**
   * Hears each checkpoint the run writes; `previous: 'quarantined'` means the checkpoint it
   * replaced was damaged and went to checkpoint.corrupt.safetensors instead of becoming prev.
   */
  onCheckpoint?: (saved: SavedCheckpoint & { step: number }) => void
  /**
   * Stops the run at the next step boundary once aborted (Ctrl-C, a job's time limit): the step
   * in flight finishes, a checkpoint is written to `checkpointDir`, and `run` returns without
   * the final evaluation, so no trained step is lost and `resume` continues from there.
   */
  signal?: AbortSignal
  /**
   * After the first step, time the matmul variants for the shapes it ran (`ops.autotuneSeenMatmuls`;
   * the winners persist per adapter, so later runs skip it). Worth it for long runs on GPU adapters.
   */
  autotune?: boolean
}

/** A recorded step on its way back: its reads started, its tensors not yet freed. */
interface InFlight<Metrics extends StepResult> {
  step: number
  recorded: RecordedStep<Metrics>
  values: Promise<HostArray[]>
}

/** The checkpoint's caller data: the task's state with the recipe beside its fields. */
type SavedExtra<State> = State & { recipe?: Record<string, unknown> }

/**
 * The training loop every model shares: step counter, one step in flight, evaluation and
 * checkpoint cadence, abort → checkpoint at the next step boundary, exact resume (model,
 * optimizer, step, device RNG and the task's state in one atomic checkpoint), and a non-finite
 * loss stopping the run with a `TrainingError`.
 */
export class Trainer<Metrics extends StepResult, State extends object = Record<string, unknown>> {
  /** Steps recorded so far: the index of the next one. */
  step = 0
  /** Recipe entries that differ from those of the checkpoint the last `resume` loaded, as "key was → now". */
  recipeChanges: string[] = []

  constructor(readonly task: TrainingTask<Metrics, State>) {}

  /** One step, waited for. */
  async trainStep(): Promise<Metrics> {
    return this.finish(this.record())
  }

  private record(): InFlight<Metrics> {
    const step = this.step
    const recorded = this.task.recordStep(step)
    this.step++
    const values = Promise.all(recorded.read.map((t) => t.read() as Promise<HostArray>))
    // A failed read is reported when its step is finished; until then it is not "unhandled".
    values.catch(() => {})
    return { step, recorded, values }
  }

  /** Waits for a recorded step's values, frees its tensors, and checks the loss. */
  private async finish({ step, recorded, values }: InFlight<Metrics>): Promise<Metrics> {
    let read: HostArray[]
    try {
      read = await values
    } finally {
      for (const t of recorded.read) t.dispose()
    }
    const metrics = recorded.metrics(read)
    if (!Number.isFinite(metrics.loss)) {
      const others = Object.entries(metrics).filter(([key, value]) => key !== 'loss' && key !== 'step' && typeof value === 'number')
      const context = others.length ? ` (${others.map(([key, value]) => `${key} ${value}`).join(', ')})` : ''
      throw new TrainingError(`loss became ${metrics.loss} at step ${step}${context}: lower the learning rate or clip gradients, then resume from the last checkpoint`)
    }
    return metrics
  }

  /**
   * Trains until step `until`, calling `onStep` after every step, evaluating every `evalEvery`
   * steps and at the end, and checkpointing every `checkpointEvery` steps and at the end (or
   * when `signal` stops it early). Returns the last evaluation's result (null if none ran).
   *
   * One step is kept in flight: the host records step s+1 while the device still runs step s
   * (on a GPU the host's recording and the GPU's work then overlap instead of taking turns),
   * except before a step whose results must be complete first: an evaluation, a checkpoint,
   * autotuning, the end. The values are those of running the steps one at a time.
   */
  async run<Eval>(opts: TrainerRunOptions<Metrics, Eval>): Promise<Eval | null> {
    const { until } = opts
    const evalEvery = opts.evaluate ? (opts.evalEvery ?? 0) : 0
    const checkpointEvery = opts.checkpointDir ? (opts.checkpointEvery ?? 0) : 0
    const evalDue = (s: number) => evalEvery > 0 && s % evalEvery === 0
    const checkpointDue = (s: number) => checkpointEvery > 0 && s % checkpointEvery === 0
    const isBoundary = (s: number) => s >= until || evalDue(s) || checkpointDue(s)
    let last: Eval | null = null
    const evaluate = async (final: boolean) => {
      if (!opts.evaluate) return
      last = await opts.evaluate({ step: this.step, final })
      opts.onEval?.(last)
    }
    const save = async (dir: string) => {
      const saved = await this.saveCheckpoint(dir)
      opts.onCheckpoint?.({ ...saved, step: this.step })
    }
    let tuned = !opts.autotune
    let inFlight: InFlight<Metrics> | null = null
    for (;;) {
      if (opts.signal) await nextTask() // on the CPU backend a step never yields: let the abort (a signal handler, a click) run
      const stopping = opts.signal?.aborted === true
      const recordNext: boolean = !stopping && this.step < until && (inFlight === null || (tuned && !isBoundary(this.step)))
      const next: InFlight<Metrics> | null = recordNext ? this.record() : null
      if (inFlight) {
        let metrics: Metrics
        try {
          metrics = await this.finish(inFlight)
        } catch (err) {
          if (next) await this.finish(next).catch(() => {}) // frees its tensors; the run is over
          throw err
        }
        // Not `onStep?.(await …)` on one line: without onStep that skipped the step.
        opts.onStep?.(metrics)
        if (!tuned) {
          // The first step ran every matmul shape of the model once: time the variants for those.
          await autotuneSeenMatmuls(this.task.device)
          tuned = true
        }
      }
      inFlight = next
      if (inFlight) continue
      // Nothing in flight: the state is that after step `this.step`.
      if (stopping) {
        if (opts.checkpointDir) await save(opts.checkpointDir)
        return last
      }
      if (this.step >= until) break
      if (evalDue(this.step)) await evaluate(false)
      if (checkpointDue(this.step)) await save(opts.checkpointDir!)
    }
    await evaluate(true)
    if (opts.checkpointDir) await save(opts.checkpointDir)
    return last
  }

  /**
   * Writes model, optimizer, step, device RNG, the task's state and recipe to `dir` (atomically). Not while `run` has a step in flight.
   * A damaged current checkpoint is moved aside rather than kept as prev (`previous: 'quarantined'`).
   */
  async saveCheckpoint(dir: string): Promise<SavedCheckpoint> {
    const { model, optimizer, device, recipe } = this.task
    const extra = { ...this.task.state?.(), ...(recipe && { recipe }) } as SavedExtra<State>
    return saveTrainingCheckpoint(dir, { model, optimizer, device, step: this.step, extra })
  }

  /**
   * Restores a checkpoint written by `saveCheckpoint`; false when `dir` holds none, else what
   * it loaded: `fallback` is set when current was missing or damaged and prev was loaded (the
   * run goes back to prev's step; `options.onFallback` hears it first). Resuming
   * with another recipe is allowed (a longer run, say) and takes effect from the checkpoint's
   * step: the schedules are the task's, laid out by its recipe, and the optimizer's base LR is
   * set back to the one the task built it with (the checkpoint restored the saved one).
   * `recipeChanges` then lists what differs, e.g. "steps 1800 → 3200"; checkpoints without a
   * recipe still report a changed LR.
   */
  async resume(dir: string, options: LoadCheckpointOptions = {}): Promise<ResumedCheckpoint | false> {
    const { model, optimizer, device, recipe } = this.task
    const lr = optimizer.lr
    const saved = await loadTrainingCheckpoint<SavedExtra<State>>(dir, { model, optimizer, device }, options)
    if (!saved) return false
    this.step = saved.step
    const { recipe: savedRecipe, ...state } = saved.extra
    this.task.setState?.(state as State)
    const savedLr = optimizer.lr
    optimizer.lr = lr
    this.recipeChanges =
      savedRecipe && recipe
        ? Object.entries(recipe)
            .map(([key, value]) => [key, JSON.stringify(savedRecipe[key]), JSON.stringify(value)])
            .filter(([, was, now]) => was !== now)
            .map(([key, was, now]) => `${key} ${was} → ${now}`)
        : savedLr !== lr
          ? [`lr ${savedLr} → ${lr}`]
          : []
    return { step: saved.step, ...saved.checkpoint }
  }
}

/** Resolves after the tasks already queued (timers, signal handlers, UI events) have run. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))
}
