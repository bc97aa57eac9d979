/**
 * How a Tessera checkpoint rides inside a safetensors file: the training state
 * is JSON in the `__metadata__` under `tessera.state`, next to a format version,
 * so tensors and state are always written (and renamed into place) together.
 * `tessera.checksums` holds a digest of every tensor (dtype, shape and stored bytes)
 * and of the state JSON; checkpoints written before it existed load unchecked.
 */
import { TesseraError } from '../errors.js'

export const CHECKPOINT_FORMAT_KEY = 'tessera.format'
export const CHECKPOINT_STATE_KEY = 'tessera.state'
export const CHECKPOINT_CHECKSUMS_KEY = 'tessera.checksums'
export const CHECKPOINT_FORMAT_VERSION = '1'

/** A checkpoint file (or directory) that exists but cannot be used. */
export class CheckpointError extends TesseraError {
  static override readonly code: string = 'checkpoint'
  override readonly name: string = 'CheckpointError'
  constructor(
    message: string,
    /** Per-file reasons, when several candidates were tried. */
    readonly causes: { path: string; error: unknown }[] = [],
  ) {
    super(message)
  }
}

/** A checkpoint whose bytes do not match the checksums written with them: the file was damaged after it was saved. */
export class CheckpointChecksumError extends CheckpointError {
  static override readonly code: string = 'checkpoint_checksum'
  override readonly name: string = 'CheckpointChecksumError'
  constructor(
    /** The damaged file. */
    readonly path: string,
    /** What does not match: a tensor's name, `state`, or `checksums` (the list itself is malformed or incomplete). */
    readonly part: string,
    detail: string,
  ) {
    super(`${path} is corrupt: ${detail}`)
  }
}

/** The checksums a checkpoint carries (the JSON under `tessera.checksums`). */
export interface CheckpointChecksums {
  algorithm: 'sha256'
  /** Digest of the `tessera.state` JSON string. */
  state: string
  /** Per tensor name: digest of its dtype, shape and bytes as stored. */
  tensors: Record<string, string>
}

/** The safetensors metadata that carries `state` (and, once computed, the checksums). */
export function checkpointMetadata(state: unknown, checksums?: CheckpointChecksums): Record<string, string> {
  const json = checkpointStateJson(state)
  return {
    [CHECKPOINT_FORMAT_KEY]: CHECKPOINT_FORMAT_VERSION,
    [CHECKPOINT_STATE_KEY]: json,
    ...(checksums && { [CHECKPOINT_CHECKSUMS_KEY]: JSON.stringify(checksums) }),
  }
}

/** The state as the checkpoint stores it; throws CheckpointError for what JSON cannot hold. */
export function checkpointStateJson(state: unknown): string {
  const json = JSON.stringify(state)
  if (json === undefined) throw new CheckpointError('checkpoint state must be JSON-serialisable (got undefined or a function)')
  return json
}

/** Recover the state from a checkpoint file's metadata, checking the format version. */
export function readCheckpointState(metadata: Record<string, string>): unknown {
  const version = metadata[CHECKPOINT_FORMAT_KEY]
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`unsupported checkpoint format ${JSON.stringify(version)} (expected "${CHECKPOINT_FORMAT_VERSION}")`)
  }
  const json = metadata[CHECKPOINT_STATE_KEY]
  if (json === undefined) throw new CheckpointError(`checkpoint has no '${CHECKPOINT_STATE_KEY}' metadata`)
  try {
    return JSON.parse(json)
  } catch (error) {
    throw new CheckpointError(`checkpoint state is not valid JSON: ${(error as Error).message}`)
  }
}

/**
 * The checksums of a checkpoint's metadata: null for a checkpoint written before they existed;
 * a CheckpointChecksumError naming `path` when the entry is there but malformed.
 */
export function readCheckpointChecksums(metadata: Record<string, string>, path: string): CheckpointChecksums | null {
  const json = metadata[CHECKPOINT_CHECKSUMS_KEY]
  if (json === undefined) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new CheckpointChecksumError(path, 'checksums', `its checksum list is not valid JSON (${(error as Error).message})`)
  }
  const c = parsed as Partial<CheckpointChecksums> | null
  if (c === null || typeof c !== 'object' || c.algorithm !== 'sha256' || typeof c.state !== 'string' || typeof c.tensors !== 'object' || c.tensors === null) {
    throw new CheckpointChecksumError(path, 'checksums', `its checksum list is malformed (${json.slice(0, 80)})`)
  }
  return c as CheckpointChecksums
}
