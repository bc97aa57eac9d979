import type { Device } from '../device.js'
import type { HostTensor } from '../io/host-tensor.js'
import { loadCheckpoint, saveCheckpoint } from '../io/node-checkpoint.js'
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

const MODEL = 'model.'
const OPTIM = 'optim.'

/**
 * Writes model weights, optimizer state, step, device RNG state and caller data into one
 * checkpoint file, atomically (see io/node-checkpoint): a crash leaves the previous one.
 */
export async function saveTrainingCheckpoint<Extra>(
  dir: string,
  run: { model: Module; optimizer: Optimizer; device: Device; step: number; extra: Extra },
): Promise<void> {
  const tensors: Record<string, HostTensor> = {}
  for (const [name, t] of Object.entries(await run.model.hostStateDict())) tensors[MODEL + name] = t
  const optim = await run.optimizer.stateDict()
  for (const [name, t] of Object.entries(optim.tensors)) tensors[OPTIM + name] = t
  const state: TrainingState<Extra> = { step: run.step, random: run.device.random.state(), optimizer: optim.state, extra: run.extra }
  await saveCheckpoint(dir, { tensors, state })
}

/** Restores what `saveTrainingCheckpoint` wrote; null when the directory holds none. */
export async function loadTrainingCheckpoint<Extra>(
  dir: string,
  run: { model: Module; optimizer: Optimizer; device: Device },
): Promise<TrainingState<Extra> | null> {
  const loaded = await loadCheckpoint<TrainingState<Extra>>(dir)
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
  return loaded.state
}
