import { nn, type Device, type ResumedCheckpoint, io } from '@tessera/tensor-core'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { oneLine, UserError } from '../fail.js'
import { userPath } from '../paths.js'
import { progressBar } from '../progress.js'
import { stopOnSignals } from './interrupt.js'
import { commandLine, machineDescription } from './provenance.js'
import { SegmentLog } from './segments.js'

/** The flags every `tessera train <model>` run shares. */
export interface RunFlags {
  out: string
  checkpoints?: string
  resume?: boolean
  export?: boolean
  steps: number
  evalEvery: number
  evalCount: number
  checkpointEvery: number
  logEvery: number
}

/**
 * Where a run writes, the model directory and its checkpoints (OUT/checkpoints unless
 * --checkpoints), checked before any work: a new run refuses to overwrite a checkpoint, and
 * --export needs --resume.
 */
export function runDirs(flags: Pick<RunFlags, 'out' | 'checkpoints' | 'resume' | 'export'>): { out: string; checkpoints: string } {
  const out = userPath(flags.out)
  const checkpoints = flags.checkpoints ? userPath(flags.checkpoints) : join(out, 'checkpoints')
  if (flags.export && !flags.resume) throw new UserError(`--export writes a checkpoint's model as it is: add --resume (the checkpoint is read from ${checkpoints})`)
  const saved = [io.CHECKPOINT_FILE, io.PREVIOUS_CHECKPOINT_FILE].some((file) => existsSync(join(checkpoints, file)))
  if (flags.resume && !saved) throw new UserError(`--resume: there is no checkpoint in ${checkpoints} to resume; drop --resume to start a new run`)
  if (!flags.resume && saved) {
    throw new UserError(`${checkpoints} already holds a checkpoint: add --resume to continue that run, or choose another --out or --checkpoints`)
  }
  return { out, checkpoints }
}

/** What the loop of tensor-core's Trainer takes, as each model's trainer passes it through. */
export interface LoopOptions<Metrics, Eval> {
  until: number
  onStep: (m: Metrics) => void
  onEval: (e: Eval) => void
  evalEvery: number
  evalCount: number
  checkpointDir: string
  checkpointEvery: number
  signal: AbortSignal
  autotune: boolean
  /** Hears each checkpoint written: a damaged one it replaced was quarantined, not rotated into prev. */
  onCheckpoint: (saved: io.SavedCheckpoint & { step: number }) => void
}

/** What a run needs of a model's trainer (each of prior, dVAE and CLIP has these); its loop comes separately. */
export interface RunTrainer {
  readonly step: number
  readonly recipeChanges: string[]
  resume(dir: string): Promise<ResumedCheckpoint | false>
}

/** Runs the model's trainer loop with the run's options, adding what the model's data needs (its held-out set). */
export type RunLoop<Metrics, Eval> = (loop: LoopOptions<Metrics, Eval>) => Promise<Eval | null>

export interface RunReport<Metrics, Eval> {
  /** What the model is, printed before the first step (device, parameters, data). */
  header: string
  /** The log line of a window of steps (printed every --log-every steps when no bar is drawn). */
  steps(window: Metrics[]): string
  /** The short status beside the bar (e.g. the loss). */
  status(m: Metrics): string
  evaluation(e: Eval): string
}

export interface RunOutcome<Eval> {
  /** The last evaluation (at the end of a finished run, over the whole held-out set). */
  last: Eval | null
  evals: Eval[]
  /** False when a signal stopped it: the checkpoint holds the state, the model was not written. */
  finished: boolean
  segments: SegmentLog
  machine: string
  /** This command as typed (an export's manifest names it). */
  command: string
  checkpoints: string
}

/** The last step's metrics with `keys` averaged over the window (noisy per-batch values; schedules and counters stay the last step's). */
export function windowMean<M extends { step: number }>(window: M[], keys: readonly (keyof M & string)[]): M {
  const mean = { ...window.at(-1)! }
  for (const key of keys) (mean[key] as number) = window.reduce((s, m) => s + (m[key] as number), 0) / window.length
  return mean
}

/**
 * A training run as every `tessera train` command runs it: --resume restores the checkpoint (and
 * insists there is one), a run without it refuses to overwrite one (runDirs), --export writes the
 * checkpoint's model without training, Ctrl-C stops at the next step with a checkpoint, progress
 * is a bar on a terminal and log lines elsewhere, and CHECKPOINTS/segments.json records the run.
 * The model's own command builds the trainer before and writes the model after.
 */
export async function runTraining<Metrics extends { step: number }, Eval>(
  device: Device,
  flags: RunFlags,
  trainer: RunTrainer,
  runLoop: RunLoop<Metrics, Eval>,
  report: RunReport<Metrics, Eval>,
): Promise<RunOutcome<Eval>> {
  const { checkpoints } = runDirs(flags)
  const progress = progressBar('training', 'steps')
  const log = (line: string) => progress.log(line)
  if (flags.resume) {
    let resumed: ResumedCheckpoint | false
    try {
      resumed = await trainer.resume(checkpoints)
    } catch (error) {
      if (error instanceof nn.StateDictError) throw new UserError(`--resume: the checkpoint in ${checkpoints} does not fit this model (${error.message}): give the sizes the run was started with`)
      throw error
    }
    if (!resumed) throw new UserError(`--resume: there is no checkpoint in ${checkpoints} to resume; drop --resume to start a new run`)
    log(`resumed from ${checkpoints} at step ${trainer.step}${resumed.verified ? '' : ' (a checkpoint from before checksums: not verified)'}`)
    if (resumed.fallback) log(`the current checkpoint could not be used (${oneLine(resumed.fallback.reason)}): resumed from the previous one, ${resumed.path}`)
    if (trainer.recipeChanges.length) log(`recipe changed since the checkpoint (schedules follow the new one from here): ${trainer.recipeChanges.join(', ')}`)
  }
  log(report.header)

  const machine = machineDescription(device)
  const command = commandLine()
  const segments = await SegmentLog.open(checkpoints, trainer.step, flags.export ? null : { command, machine })
  const interrupt = stopOnSignals((sig) => log(`${sig}: stopping after this step with a checkpoint (again to quit now)`))
  const until = flags.export ? trainer.step : flags.steps
  const evals: Eval[] = []
  let window: Metrics[] = []
  let last: Eval | null
  try {
    last = await runLoop({
      until,
      onStep: (m) => {
        window.push(m)
        progress.update(m.step + 1, until, report.status(m))
        if ((m.step + 1) % flags.logEvery !== 0 && m.step + 1 !== until) return
        if (!progress.visible) log(report.steps(window))
        window = []
      },
      onEval: (e) => {
        evals.push(e)
        log(report.evaluation(e))
        void segments.save(trainer.step)
      },
      evalEvery: flags.evalEvery,
      evalCount: flags.evalCount,
      checkpointDir: checkpoints,
      checkpointEvery: flags.checkpointEvery,
      signal: interrupt.signal,
      // Matmul variants are timed per shape after the first step on GPU adapters (the winners persist per adapter).
      autotune: device.kind === 'webgpu',
      onCheckpoint: (saved) => {
        // The segment log follows every checkpoint, so a copy of the checkpoints exported later says how far this run got.
        void segments.save(saved.step)
        if (saved.previous === 'quarantined') log(`the checkpoint being replaced was damaged (${oneLine(saved.corrupt)}): kept as ${io.CORRUPT_CHECKPOINT_FILE}; the previous one is untouched`)
      },
    })
    await segments.save(trainer.step)
  } finally {
    progress.stop()
    interrupt.dispose()
  }
  const finished = !(interrupt.signal.aborted && trainer.step < until)
  if (!finished) {
    log(`stopped at step ${trainer.step}: checkpoint in ${checkpoints}; continue with the same command and --resume (or --resume --export to write the model as it is)`)
    process.exitCode = interrupt.exitCode
  }
  return { last, evals, finished, segments, machine, command, checkpoints }
}
