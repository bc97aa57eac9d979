export { Device, BACKEND_CHOICES, DEFAULT_CPU_MAX_TENSOR_BYTES, type DeviceOptions, type TensorOptions, type KernelStats, type BackendChoice } from './device.js'
export { Tensor } from './tensor.js'
export { DTYPES, type DType, type HostArray } from './dtype.js'
export { tidy, keep } from './scope.js'
export { noGrad, isGradEnabled, AutogradError, type GradNode } from './autograd.js'
export {
  TesseraError,
  isTesseraError,
  TESSERA_ERROR_BRAND,
  InvalidArgumentError,
  ShapeError,
  DTypeError,
  AdapterError,
  DeviceLimitError,
  TensorStateError,
  type TesseraErrorOptions,
} from './errors.js'
export { KernelCompileError } from './backend/webgpu.js'
export type { MemoryInfo, AdapterSummary } from './backend/backend.js'
export { DEFAULT_PACK_CACHE_BYTES, type DerivedCacheStats } from './backend/derived-cache.js'
export type { Kernel, ShaderSpec } from './kernel.js'
export { RandomGenerator } from './random-state.js'
export * as ops from './ops/index.js'
export * as io from './io/index.js'
export * as nn from './nn/index.js'
export * as optim from './optim/index.js'
export { toHost, fromHost } from './host.js'
export { saveTrainingCheckpoint, loadTrainingCheckpoint, type TrainingState, type LoadedTrainingState, type CheckpointSource } from './train/checkpoint.js'
export { Trainer, TrainingError, type ResumedCheckpoint, type TrainingTask, type RecordedStep, type StepResult, type TrainerRunOptions } from './train/trainer.js'
export { profileKernels, type KernelProfile } from './profile.js'
export { inSlices, itemsPerPass, measurePeakBytes, type ItemsPerPassOptions } from './batching.js'
