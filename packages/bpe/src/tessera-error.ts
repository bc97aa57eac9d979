/**
 * Tessera's error base, as in `@tessera/tensor-core` (which this package does not depend on):
 * the same `Symbol.for` brand makes `instanceof TesseraError` hold for errors of every Tessera
 * package, whichever package's copy of the class the caller imported. Keep it identical to
 * tensor-core's `src/errors.ts` base (dalle's `error-family` test checks they agree).
 */
export const TESSERA_ERROR_BRAND: unique symbol = Symbol.for('tessera.error') as never

/** True for an error thrown on purpose by any Tessera package (any copy of it). */
export function isTesseraError(value: unknown): value is TesseraError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TESSERA_ERROR_BRAND] === true
}

export interface TesseraErrorOptions {
  /** Overrides the class's code. */
  code?: string
  cause?: unknown
}

/** Base class of every error Tessera throws on purpose; `code` is stable, the message is for humans. */
export class TesseraError extends Error {
  static readonly code: string = 'tessera'
  readonly code: string

  constructor(message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code ?? (new.target as unknown as { code?: string }).code ?? 'tessera'
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TesseraError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return isTesseraError(value)
  }
}
Object.defineProperty(TesseraError.prototype, TESSERA_ERROR_BRAND, { value: true })

/** A numeric or option argument outside its range: a `RangeError` (as before) that is also a TesseraError. */
export class InvalidArgumentError extends RangeError {
  static readonly code = 'invalid_argument'
  readonly code = 'invalid_argument'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidArgumentError'
  }
}
Object.defineProperty(InvalidArgumentError.prototype, TESSERA_ERROR_BRAND, { value: true })
