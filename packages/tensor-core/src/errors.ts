/** Base class of every error the tensor core throws on purpose, so callers can tell them apart. */
export class TesseraError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** Shapes that do not fit an op (mismatched dims, bad axis, wrong rank). */
export class ShapeError extends TesseraError {}

/** A dtype the op does not support, or mixed dtypes where one is required. */
export class DTypeError extends TesseraError {}

/** No usable GPU adapter or device; the message says what to install. */
export class AdapterError extends TesseraError {}

/** A tensor larger than the device lets one kernel bind (Device.maxTensorBytes): split the batch. */
export class DeviceLimitError extends TesseraError {}

/** A tensor was used after dispose(), or tensors from two devices were mixed. */
export class TensorStateError extends TesseraError {}
