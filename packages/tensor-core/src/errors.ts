/**
 * One error family across every Tessera package: the base (`TesseraError`, its `Symbol.for` brand,
 * `InvalidArgumentError`) lives in `@tessera/errors`, which the packages without the tensor core
 * (`@tessera/bpe`, `@tessera/datasets`) use too; the tensor core re-exports it and adds its own.
 */
import { TesseraError } from '@tessera/errors'

export { TesseraError, isTesseraError, TESSERA_ERROR_BRAND, InvalidArgumentError, type TesseraErrorOptions } from '@tessera/errors'

/** Shapes that do not fit an op (mismatched dims, bad axis, wrong rank). */
export class ShapeError extends TesseraError {
  static override readonly code: string = 'shape'
}

/** A dtype the op does not support, or mixed dtypes where one is required. */
export class DTypeError extends TesseraError {
  static override readonly code: string = 'dtype'
}

/** No usable GPU adapter or device, or a backend name that does not exist; the message says what to do. */
export class AdapterError extends TesseraError {
  static override readonly code: string = 'adapter'
}

/** A tensor larger than the device lets one kernel bind (Device.maxTensorBytes): split the batch. */
export class DeviceLimitError extends TesseraError {
  static override readonly code: string = 'device_limit'
}

/** A tensor was used after dispose(), or tensors from two devices were mixed. */
export class TensorStateError extends TesseraError {
  static override readonly code: string = 'tensor_state'
}
