// Public surface of the weights/checkpoint file layer.
// Browser-safe: everything except the `node-*` modules, which import node:fs lazily
// (so bundling them for the browser is harmless; calling them there is not).

export { SafetensorsError, type SafetensorsErrorCode } from './errors.js'
export { bf16BitsToF32, f16BitsToF32, f32ToF16Bits } from './half.js'
export type { HostDType, HostTensor, HostTensorCollection } from './host-tensor.js'
export type { SafetensorsDType } from './safetensors-dtype.js'
export type { DecodeOptions } from './safetensors-decode.js'
export type { TensorInfo } from './safetensors-header.js'
export { parseSafetensors, SafetensorsFile, type ParseOptions } from './safetensors-parse.js'
export { serializeSafetensors, type SerializeOptions } from './safetensors-serialize.js'
export {
  CHECKPOINT_FORMAT_KEY,
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_STATE_KEY,
  CHECKPOINT_CHECKSUMS_KEY,
  CheckpointError,
  CheckpointChecksumError,
  type CheckpointChecksums,
} from './checkpoint-format.js'

// Node only.
export { cleanStaleTemps, writeFileAtomic, type ByteSource } from './node-atomic-write.js'
export {
  openSafetensors,
  readSafetensorsFile,
  SafetensorsFileReader,
  writeSafetensorsFile,
} from './node-safetensors-file.js'
export {
  CHECKPOINT_FILE,
  CORRUPT_CHECKPOINT_FILE,
  loadCheckpoint,
  PREVIOUS_CHECKPOINT_FILE,
  saveCheckpoint,
  type Checkpoint,
  type CheckpointFallback,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type SavedCheckpoint,
} from './node-checkpoint.js'
export { MODEL_MANIFEST_FILE, readModelManifest, readModelWeights, type ModelDirError, type ModelManifestSpec } from './node-model-dir.js'
