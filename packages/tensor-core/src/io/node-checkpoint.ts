/**
 * Checkpoint directories (Node only). One safetensors file holds model,
 * optimizer and training state, so a single rename switches all of them.
 *
 * Save order, chosen so a crash at any point leaves something loadable:
 *   1. write the new checkpoint to a temp file and fsync it
 *   2. rename current → prev   (crash here: current missing, prev is the last good one)
 *   3. rename temp → current
 *   4. fsync the directory
 * The loader takes current and falls back to prev when current is missing or corrupt.
 */
import { CheckpointError, checkpointMetadata, readCheckpointState } from './checkpoint-format.js'
import type { HostTensor, HostTensorCollection } from './host-tensor.js'
import { cleanStaleTemps, fsyncDirectory, writeTempFile } from './node-atomic-write.js'
import { planChunks, readSafetensorsFile } from './node-safetensors-file.js'
import type { ParseOptions } from './safetensors-parse.js'
import { planSafetensors, type SerializeOptions } from './safetensors-serialize.js'

export const CHECKPOINT_FILE = 'checkpoint.safetensors'
export const PREVIOUS_CHECKPOINT_FILE = 'checkpoint.prev.safetensors'

export interface Checkpoint<State = unknown> {
  /** Free-form names, e.g. `model.blocks.0.attn.w`, `optim.m.model.blocks.0.attn.w`. */
  tensors: Record<string, HostTensor>
  /** JSON-serialisable training state: step, RNG state, data position, optimizer hyper-parameters... */
  state: State
}

export interface LoadedCheckpoint<State = unknown> extends Checkpoint<State> {
  /** The file actually loaded (current, or prev after a fallback). */
  path: string
  /** Files tried first and rejected, with why (non-empty means we fell back). */
  skipped: { path: string; error: unknown }[]
}

/** Atomically write `checkpoint` as `dir/checkpoint.safetensors`, keeping the previous one as `checkpoint.prev.safetensors`. */
export async function saveCheckpoint(
  dir: string,
  checkpoint: { tensors: HostTensorCollection; state: unknown },
  options?: SerializeOptions,
): Promise<void> {
  const fs = await import('node:fs/promises')
  const { join } = await import('node:path')
  const plan = planSafetensors(checkpoint.tensors, checkpointMetadata(checkpoint.state), options)
  await fs.mkdir(dir, { recursive: true })
  await cleanStaleTemps(dir)
  const currentPath = join(dir, CHECKPOINT_FILE)
  const tempPath = await writeTempFile(currentPath, planChunks(plan))
  try {
    await fs.rename(currentPath, join(dir, PREVIOUS_CHECKPOINT_FILE))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await fs.rm(tempPath, { force: true })
      throw error
    }
  }
  try {
    await fs.rename(tempPath, currentPath)
  } catch (error) {
    await fs.rm(tempPath, { force: true })
    throw error
  }
  await fsyncDirectory(dir)
}

/**
 * Load the newest usable checkpoint in `dir`: current, else prev. Returns null
 * when neither exists; throws CheckpointError (with per-file causes) when files
 * exist but none can be loaded, so a corrupt directory never looks like a fresh start.
 */
export async function loadCheckpoint<State = unknown>(dir: string, options?: ParseOptions): Promise<LoadedCheckpoint<State> | null> {
  const { join } = await import('node:path')
  const skipped: { path: string; error: unknown }[] = []
  for (const path of [join(dir, CHECKPOINT_FILE), join(dir, PREVIOUS_CHECKPOINT_FILE)]) {
    try {
      const { metadata, tensors } = await readSafetensorsFile(path, options)
      return { tensors, state: readCheckpointState(metadata) as State, path, skipped }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      skipped.push({ path, error })
    }
  }
  if (skipped.length === 0) return null
  const reasons = skipped.map(({ path, error }) => `${path}: ${(error as Error).message}`).join('; ')
  throw new CheckpointError(`no loadable checkpoint in ${dir} (${reasons})`, skipped)
}
