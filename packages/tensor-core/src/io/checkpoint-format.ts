/**
 * How a Tessera checkpoint rides inside a safetensors file: the training state
 * is JSON in the `__metadata__` under `tessera.state`, next to a format version,
 * so tensors and state are always written (and renamed into place) together.
 */

export const CHECKPOINT_FORMAT_KEY = 'tessera.format'
export const CHECKPOINT_STATE_KEY = 'tessera.state'
export const CHECKPOINT_FORMAT_VERSION = '1'

/** A checkpoint file (or directory) that exists but cannot be used. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError'
  constructor(
    message: string,
    /** Per-file reasons, when several candidates were tried. */
    readonly causes: { path: string; error: unknown }[] = [],
  ) {
    super(message)
  }
}

/** The safetensors metadata that carries `state`. */
export function checkpointMetadata(state: unknown): Record<string, string> {
  const json = JSON.stringify(state)
  if (json === undefined) throw new CheckpointError('checkpoint state must be JSON-serialisable (got undefined or a function)')
  return { [CHECKPOINT_FORMAT_KEY]: CHECKPOINT_FORMAT_VERSION, [CHECKPOINT_STATE_KEY]: json }
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
