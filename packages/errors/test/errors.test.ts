import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, isTesseraError, TESSERA_ERROR_BRAND, TesseraError } from '../src/index.js'

class ParseError extends TesseraError {
  static override readonly code: string = 'parse'
}
class DeepParseError extends ParseError {
  static override readonly code: string = 'deep_parse'
}
class OtherError extends TesseraError {}

describe('TesseraError', () => {
  it('carries the code of its class, its name, and a cause when given one', () => {
    const cause = new Error('underneath')
    const e = new DeepParseError('bad', { cause })
    expect(e).toMatchObject({ code: 'deep_parse', name: 'DeepParseError', message: 'bad', cause })
    expect(new ParseError('x').code).toBe('parse')
    expect(new OtherError('x').code).toBe('tessera') // a subclass without its own code inherits the base's
    expect(new TesseraError('x')).toMatchObject({ code: 'tessera', name: 'TesseraError' })
    expect('cause' in new TesseraError('x')).toBe(false)
    expect(new ParseError('x', { code: 'truncated' }).code).toBe('truncated') // a class with several causes
  })

  it('instanceof TesseraError checks the brand; subclasses keep the prototype check', () => {
    expect(new DeepParseError('x')).toBeInstanceOf(TesseraError)
    expect(new DeepParseError('x')).toBeInstanceOf(ParseError)
    expect(new ParseError('x') instanceof DeepParseError).toBe(false)
    expect(new OtherError('x') instanceof ParseError).toBe(false)
    expect(new Error('x') instanceof TesseraError).toBe(false)
    for (const value of [null, undefined, 3, 'tessera', {}]) expect(isTesseraError(value)).toBe(false)
    // Any object carrying the shared brand: what an error from another copy of this package is.
    const foreign = Object.create(Error.prototype, { [TESSERA_ERROR_BRAND]: { value: true } }) as Error
    expect(foreign).toBeInstanceOf(TesseraError)
    expect(isTesseraError(foreign)).toBe(true)
    expect(TESSERA_ERROR_BRAND).toBe(Symbol.for('tessera.error'))
  })

  it('a second copy of the module (another install) recognises this copy\'s errors and the reverse', async () => {
    // @ts-expect-error: a query makes a second module instance, as a duplicated install would
    const other = (await import('../src/index.ts?second-copy')) as typeof import('../src/index.js')
    expect(other.TesseraError).not.toBe(TesseraError)
    expect(new ParseError('x')).toBeInstanceOf(other.TesseraError)
    expect(new other.TesseraError('x')).toBeInstanceOf(TesseraError)
    expect(new other.InvalidArgumentError('x')).toBeInstanceOf(TesseraError)
    expect(other.isTesseraError(new DeepParseError('x'))).toBe(true)
    expect(new other.TesseraError('x') instanceof ParseError).toBe(false)
  })
})

describe('InvalidArgumentError', () => {
  it('is a RangeError (what argument checks threw before) and a TesseraError, code invalid_argument', () => {
    const e = new InvalidArgumentError('p must be in [0, 1]')
    expect(e).toBeInstanceOf(RangeError)
    expect(e).toBeInstanceOf(TesseraError)
    expect(e).toMatchObject({ code: 'invalid_argument', name: 'InvalidArgumentError', message: 'p must be in [0, 1]' })
    expect(InvalidArgumentError.code).toBe('invalid_argument')
    expect(isTesseraError(e)).toBe(true)
  })
})
