import type { Device } from '../device.js'
import type { HostTensor } from '../io/host-tensor.js'
import { loadCheckpoint, saveCheckpoint, type CheckpointFallback, type LoadCheckpointOptions, type SavedCheckpoint } from '../io/node-checkpoint.js'
import type { Module } from '../nn/module.js'
import type { Optimizer, OptimizerState } from '../optim/optimizer.js'

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface TrainingState<Extra = unknown> {
  step: number
  random: { seed: number; offset: number }
  optimizer: OptimizerState['state']
  /** Caller-defined: data order seed and position, metrics history, recipe... */
  extra: Extra
}

/** Which file a training checkpoint came from, and whether it is the one expected. */
export interface CheckpointSource {
  /** The file loaded. */
  path: string
  /** Set when current was missing or damaged and prev was loaded: the run goes back to prev's step. */
  fallback: CheckpointFallback | null
  /** Whether the file's checksums were checked (false for checkpoints written before they existed). */
  verified: boolean
}

/** A restored training state, with where it came from. */
export type LoadedTrainingState<Extra = unknown> = TrainingState<Extra> & { readonly checkpoint: CheckpointSource }

const MODEL = 'model.'
const OPTIM = 'optim.'

/**
 * Writes model weights, optimizer state, step, device RNG state and caller data into one
 * checkpoint file, atomically (see io/node-checkpoint): a crash leaves the previous one.
 */
export async function saveTrainingCheckpoint<Extra>(
  dir: string,
  run: { model: Module; optimizer: Optimizer; device: Device; step: number; extra: Extra },
): Promise<SavedCheckpoint> {
  const tensors: Record<string, HostTensor> = {}
  for (const [name, t] of Object.entries(await run.model.hostStateDict())) tensors[MODEL + name] = t
  const optim = await run.optimizer.stateDict()
  for (const [name, t] of Object.entries(optim.tensors)) tensors[OPTIM + name] = t
  const state: TrainingState<Extra> = { step: run.step, random: run.device.random.state(), optimizer: optim.state, extra: run.extra }
  return saveCheckpoint(dir, { tensors, state })
}

/**
 * Restores what `saveTrainingCheckpoint` wrote; null when the directory holds none. When
 * current was missing or damaged and prev was loaded, `checkpoint.fallback` says so (and
 * `onFallback` is called first); damaged files are CheckpointChecksumErrors naming the file.
 */
export async function loadTrainingCheckpoint<Extra>(
  dir: string,
  run: { model: Module; optimizer: Optimizer; device: Device },
  options: LoadCheckpointOptions = {},
): Promise<LoadedTrainingState<Extra> | null> {
  const loaded = await loadCheckpoint<TrainingState<Extra>>(dir, options)
  if (!loaded) return null
  const model: Record<string, HostTensor> = {}
  const optim: Record<string, HostTensor> = {}
  for (const [name, t] of Object.entries(loaded.tensors)) {
    if (name.startsWith(MODEL)) model[name.slice(MODEL.length)] = t
    else if (name.startsWith(OPTIM)) optim[name.slice(OPTIM.length)] = t
  }
  run.model.loadStateDict(model)
  run.optimizer.loadStateDict({ tensors: optim, state: loaded.state.optimizer })
  run.device.random.setState(loaded.state.random)
  return { ...loaded.state, checkpoint: { path: loaded.path, fallback: loaded.fallback, verified: loaded.verified } }
}
