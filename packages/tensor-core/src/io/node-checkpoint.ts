/**
 * Checkpoint directories (Node only). One safetensors file holds model,
 * optimizer and training state, so a single rename switches all of them.
 *
 * Save order, chosen so a crash at any point leaves something loadable:
 *   1. write the new checkpoint to a temp file and fsync it
 *   2. check current (its checksums); if it is good, rename current → prev
 *      (crash here: current missing, prev is the last good one); if it is damaged, rename
 *      it to checkpoint.corrupt.safetensors instead, so it never replaces a good prev
 *   3. rename temp → current
 *   4. fsync the directory
 * The loader takes current and falls back to prev when current is missing or corrupt, and
 * says so (`fallback` in what it returns, and `onFallback`).
 *
 * Every checkpoint carries a SHA-256 of each tensor (dtype, shape, stored bytes) and of its
 * state JSON; a mismatch is a CheckpointChecksumError naming the file. Checkpoints written
 * before the checksums existed load as before, unchecked (`verified: false`).
 */
import {
  CheckpointChecksumError,
  CheckpointError,
  checkpointMetadata,
  checkpointStateJson,
  CHECKPOINT_STATE_KEY,
  readCheckpointChecksums,
  readCheckpointState,
  type CheckpointChecksums,
} from './checkpoint-format.js'
import type { HostTensor, HostTensorCollection } from './host-tensor.js'
import { cleanStaleTemps, fsyncDirectory, writeTempFile } from './node-atomic-write.js'
import { openSafetensors, planChunks } from './node-safetensors-file.js'
import { decodeTensor } from './safetensors-decode.js'
import type { SafetensorsDType } from './safetensors-dtype.js'
import type { ParseOptions } from './safetensors-parse.js'
import { planSafetensors, type SerializeOptions } from './safetensors-serialize.js'

export const CHECKPOINT_FILE = 'checkpoint.safetensors'
export const PREVIOUS_CHECKPOINT_FILE = 'checkpoint.prev.safetensors'
/** Where a damaged current checkpoint goes when a save replaces it (kept for inspection; the next one replaces it). */
export const CORRUPT_CHECKPOINT_FILE = 'checkpoint.corrupt.safetensors'

export interface Checkpoint<State = unknown> {
  /** Free-form names, e.g. `model.blocks.0.attn.w`, `optim.m.model.blocks.0.attn.w`. */
  tensors: Record<string, HostTensor>
  /** JSON-serialisable training state: step, RNG state, data position, optimizer hyper-parameters... */
  state: State
}

/** The loader took prev because current was missing or could not be used. */
export interface CheckpointFallback {
  /** The file that was not used (current). */
  from: string
  /** The file loaded instead (prev). */
  to: string
  /** Why: `missing` (a crash between the two renames of a save), else the error current gave. */
  reason: 'missing' | CheckpointError | Error
}

export interface LoadedCheckpoint<State = unknown> extends Checkpoint<State> {
  /** The file actually loaded (current, or prev after a fallback). */
  path: string
  /** Files tried first and rejected, with why. */
  skipped: { path: string; error: unknown }[]
  /** Set when prev was loaded instead of current; null when current loaded. */
  fallback: CheckpointFallback | null
  /** True when the file's checksums were checked (false: a checkpoint written before they existed). */
  verified: boolean
}

export interface LoadCheckpointOptions extends ParseOptions {
  /** Called when the loader falls back to prev, before it returns (e.g. to log it). */
  onFallback?: (fallback: CheckpointFallback) => void
}

/** What a save did with the checkpoint it replaced. */
export interface SavedCheckpoint {
  path: string
  /**
   * `rotated`: the old current became prev; `none`: there was no current (prev, if any, kept);
   * `quarantined`: the old current was damaged, so it went to checkpoint.corrupt.safetensors and prev was kept.
   */
  previous: 'rotated' | 'none' | 'quarantined'
  /** Why the old current was quarantined. */
  corrupt?: unknown
}

async function sha256(parts: Iterable<Uint8Array | string>): Promise<string> {
  const { createHash } = await import('node:crypto')
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

/** The digest of one tensor: dtype and shape (as stored) and its bytes. */
const tensorDigest = (dtype: SafetensorsDType, shape: readonly number[], bytes: Uint8Array) => sha256([`${dtype}[${shape.join(',')}]\n`, bytes])

/** Atomically write `checkpoint` as `dir/checkpoint.safetensors`, keeping the previous one (if sound) as `checkpoint.prev.safetensors`. */
export async function saveCheckpoint(
  dir: string,
  checkpoint: { tensors: HostTensorCollection; state: unknown },
  options?: SerializeOptions,
): Promise<SavedCheckpoint> {
  const fs = await import('node:fs/promises')
  const { join } = await import('node:path')
  const stateJson = checkpointStateJson(checkpoint.state)
  // Lay the file out once to learn each tensor's stored dtype and bytes, digest them, then lay it
  // out again with the digests in its header (encoding is a view for same-dtype tensors).
  const draft = planSafetensors(checkpoint.tensors, checkpointMetadata(checkpoint.state), options)
  const header = JSON.parse(new TextDecoder().decode(draft.header.subarray(8))) as Record<string, { dtype: SafetensorsDType; shape: number[] }>
  const checksums: CheckpointChecksums = { algorithm: 'sha256', state: await sha256([stateJson]), tensors: {} }
  for (const t of draft.tensors) checksums.tensors[t.name] = await tensorDigest(header[t.name]!.dtype, header[t.name]!.shape, t.encode())
  const plan = planSafetensors(checkpoint.tensors, checkpointMetadata(checkpoint.state, checksums), options)

  await fs.mkdir(dir, { recursive: true })
  await cleanStaleTemps(dir)
  const currentPath = join(dir, CHECKPOINT_FILE)
  const tempPath = await writeTempFile(currentPath, planChunks(plan))
  // A damaged current must not become prev (it would replace the last good checkpoint).
  let previous: SavedCheckpoint['previous'] = 'rotated'
  let corrupt: unknown
  try {
    await readCheckpointFile(currentPath, {}, false)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') previous = 'none'
    else ((previous = 'quarantined'), (corrupt = error))
  }
  if (previous !== 'none') {
    try {
      await fs.rename(currentPath, join(dir, previous === 'rotated' ? PREVIOUS_CHECKPOINT_FILE : CORRUPT_CHECKPOINT_FILE))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        await fs.rm(tempPath, { force: true })
        throw error
      }
      previous = 'none' // current vanished between the check and the rename
    }
  }
  try {
    await fs.rename(tempPath, currentPath)
  } catch (error) {
    await fs.rm(tempPath, { force: true })
    throw error
  }
  await fsyncDirectory(dir)
  return { path: currentPath, previous, ...(previous === 'quarantined' && { corrupt }) }
}

/**
 * Reads and checks one checkpoint file: its format, then each tensor's and the state's digest
 * (when it has them). `decode` false checks without keeping the tensors.
 */
async function readCheckpointFile(
  path: string,
  options: ParseOptions,
  decode: boolean,
): Promise<{ tensors: Record<string, HostTensor>; state: unknown; verified: boolean }> {
  const file = await openSafetensors(path, options)
  try {
    const state = readCheckpointState(file.metadata)
    const checksums = readCheckpointChecksums(file.metadata, path)
    if (checksums) {
      if ((await sha256([file.metadata[CHECKPOINT_STATE_KEY]!])) !== checksums.state) {
        throw new CheckpointChecksumError(path, 'state', 'its training state does not match its checksum')
      }
      const names = file.names()
      const unlisted = names.filter((n) => !Object.hasOwn(checksums.tensors, n))
      const absent = Object.keys(checksums.tensors).filter((n) => !file.has(n))
      if (unlisted.length || absent.length) {
        const part = (unlisted[0] ?? absent[0])!
        throw new CheckpointChecksumError(path, part, `its tensors and its checksum list disagree (${[...unlisted.map((n) => `'${n}' has no checksum`), ...absent.map((n) => `'${n}' is missing`)].slice(0, 3).join(', ')})`)
      }
    }
    const tensors: [string, HostTensor][] = []
    for (const name of file.names()) {
      const { dtype, shape } = file.info(name)
      const bytes = await file.readBytes(name)
      if (checksums && (await tensorDigest(dtype, shape, bytes)) !== checksums.tensors[name]) {
        throw new CheckpointChecksumError(path, name, `tensor '${name}' (${dtype} [${shape.join(', ')}]) does not match its checksum`)
      }
      if (decode) tensors.push([name, decodeTensor(name, dtype, shape, bytes, options)])
    }
    return { tensors: Object.fromEntries(tensors), state, verified: checksums !== null }
  } finally {
    await file.close()
  }
}

/**
 * Load the newest usable checkpoint in `dir`: current, else prev (reported as `fallback` and
 * through `onFallback`). Returns null when neither exists; throws CheckpointError (with
 * per-file causes) when files exist but none can be loaded, so a corrupt directory never
 * looks like a fresh start.
 */
export async function loadCheckpoint<State = unknown>(dir: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint<State> | null> {
  const { join } = await import('node:path')
  const { onFallback, ...parseOptions } = options
  const skipped: { path: string; error: unknown }[] = []
  const currentPath = join(dir, CHECKPOINT_FILE)
  let currentMissing = false
  for (const path of [currentPath, join(dir, PREVIOUS_CHECKPOINT_FILE)]) {
    let loaded
    try {
      loaded = await readCheckpointFile(path, parseOptions, true)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (path === currentPath) currentMissing = true
        continue
      }
      skipped.push({ path, error })
      continue
    }
    const fallback: CheckpointFallback | null =
      path === currentPath ? null : { from: currentPath, to: path, reason: currentMissing ? 'missing' : (skipped[0]!.error as Error) }
    if (fallback) onFallback?.(fallback)
    return { tensors: loaded.tensors, state: loaded.state as State, path, skipped, fallback, verified: loaded.verified }
  }
  if (skipped.length === 0) return null
  const reasons = skipped.map(({ path, error }) => `${path}: ${(error as Error).message}`).join('; ')
  throw new CheckpointError(`no loadable checkpoint in ${dir} (${reasons})`, skipped)
}
