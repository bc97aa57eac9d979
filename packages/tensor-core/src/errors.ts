/**
 * One error family across every Tessera package. Packages that do not depend on the tensor
 * core (`@tessera/bpe`, `@tessera/datasets`) define their own copy of this base with the same
 * brand, so `error instanceof TesseraError` holds for an error from any of them, whichever
 * copy of `TesseraError` the caller imported (and across duplicated installs of a package).
 */
export const TESSERA_ERROR_BRAND: unique symbol = Symbol.for('tessera.error') as never

/** True for an error thrown on purpose by any Tessera package (any copy of it). */
export function isTesseraError(value: unknown): value is TesseraError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TESSERA_ERROR_BRAND] === true
}

export interface TesseraErrorOptions {
  /** Overrides the class's code (a class with several causes, e.g. SafetensorsError). */
  code?: string
  cause?: unknown
}

/**
 * Base class of every error Tessera throws on purpose. `code` is stable (callers branch on it;
 * the message is for humans); each subclass has its own, as a static `code`.
 */
export class TesseraError extends Error {
  static readonly code: string = 'tessera'
  readonly code: string

  constructor(message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code ?? (new.target as unknown as { code?: string }).code ?? 'tessera'
  }

  /** `x instanceof TesseraError` checks the shared brand; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TesseraError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return isTesseraError(value)
  }
}
Object.defineProperty(TesseraError.prototype, TESSERA_ERROR_BRAND, { value: true })

/**
 * A numeric or option argument outside its range. Also a `RangeError` (what these checks threw
 * before the family existed), and branded, so it is `instanceof TesseraError` as well.
 */
export class InvalidArgumentError extends RangeError {
  static readonly code = 'invalid_argument'
  readonly code = 'invalid_argument'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidArgumentError'
  }
}
Object.defineProperty(InvalidArgumentError.prototype, TESSERA_ERROR_BRAND, { value: true })

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
