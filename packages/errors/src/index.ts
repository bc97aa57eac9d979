/**
 * One error family across every Tessera package. Every package, those without the tensor core
 * (`@tessera/bpe`, `@tessera/datasets`) included, builds its errors on this one base. The brand is
 * a `Symbol.for` key, so `error instanceof TesseraError` also holds when two installed copies of
 * this package meet (a duplicated install, a bundle beside the npm packages): whichever copy of
 * `TesseraError` the caller imported, it recognises errors made from the other.
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
