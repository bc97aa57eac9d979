import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  f16BitsToF32,
  f32ToF16Bits,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type HostTensor,
  type SafetensorsErrorCode,
} from '../../src/io/index.js'
import { buildFile } from './helpers.js'

const fixture = (name: string) => new URL(`../../fixtures/io/${name}`, import.meta.url)

function expectCode(action: () => unknown, code: SafetensorsErrorCode): SafetensorsError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError)
    expect((error as SafetensorsError).code, (error as Error).message).toBe(code)
    return error as SafetensorsError
  }
  return expect.fail(`expected SafetensorsError '${code}', nothing was thrown`)
}

const sample: Record<string, HostTensor> = {
  'model.blocks.input.w': { dtype: 'f32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, -0, 1e-20]) },
  'model.scalar': { dtype: 'f32', shape: [], data: new Float32Array([42]) },
  'model.empty': { dtype: 'f32', shape: [0, 5], data: new Float32Array(0) },
  'half.raw': { dtype: 'f16', shape: [3], data: new Uint16Array([0x3c00, 0x7c00, 0x8001]) },
  'tokens': { dtype: 'i32', shape: [4], data: new Int32Array([-2147483648, 2147483647, -1, 0]) },
  'counts': { dtype: 'u32', shape: [2], data: new Uint32Array([0, 4294967295]) },
}

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('restores every dtype, shape and value, plus metadata', () => {
    // "__proto__" must stay an ordinary key/name (object literals would treat it as the prototype).
    const metadata = Object.fromEntries([['step', '7'], ['__proto__', 'just a key']])
    const tensors = new Map([...Object.entries(sample), ['__proto__', sample.tokens!]])
    const file = parseSafetensors(serializeSafetensors(tensors, metadata), { keepF16: true })
    expect(file.metadata).toEqual(metadata)
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype)
    expect(new Set(file.names())).toEqual(new Set(tensors.keys()))
    for (const [name, tensor] of tensors) expect(file.get(name), name).toEqual(tensor)
  })

  it('loads f16 as f32 by default', () => {
    const loaded = parseSafetensors(serializeSafetensors(sample)).get('half.raw')
    expect(loaded).toEqual({ dtype: 'f32', shape: [3], data: new Float32Array([1, Infinity, -(2 ** -24)]) })
  })

  it('stores f32 as F16 (rounded to nearest even) and i32 as I64 on request', () => {
    const tensors: Record<string, HostTensor> = {
      w: { dtype: 'f32', shape: [3], data: new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000]) },
      ids: { dtype: 'i32', shape: [3], data: new Int32Array([-5, 2147483647, -2147483648]) },
    }
    const bytes = serializeSafetensors(tensors, {}, { storeAs: (name) => (name === 'w' ? 'F16' : 'I64') })
    const file = parseSafetensors(bytes, { keepF16: true })
    expect(file.info('w').dtype).toBe('F16')
    expect(file.info('ids')).toMatchObject({ dtype: 'I64', byteLength: 24 })
    expect(file.get('w').data).toEqual(new Uint16Array([0x3c00, 0x3c02, 0x7c00]))
    expect(file.get('ids')).toEqual(tensors.ids)
  })

  it('is deterministic: sorted by element size then name, Map and Record alike, header padded to 8', () => {
    const bytes = serializeSafetensors(sample, { a: 'b' })
    const reversed = new Map(Object.entries(sample).reverse())
    expect(serializeSafetensors(reversed, { a: 'b' })).toEqual(bytes)
    const file = parseSafetensors(bytes)
    expect(file.names()).toEqual(['counts', 'model.blocks.input.w', 'model.empty', 'model.scalar', 'tokens', 'half.raw'])
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect((8 + headerLength) % 8).toBe(0)
    for (const name of file.names()) expect(file.info(name).byteOffset % 4, name).toBe(0)
  })

  it('returns aligned f32 data as a view of the input (no copy)', () => {
    const bytes = serializeSafetensors(sample)
    const tensor = parseSafetensors(bytes).get('model.blocks.input.w')
    expect(tensor.data.buffer).toBe(bytes.buffer)
  })

  it('rejects bad tensors when writing', () => {
    const f32 = (data: number[], shape: number[]): HostTensor => ({ dtype: 'f32', shape, data: new Float32Array(data) })
    expectCode(() => serializeSafetensors({ x: f32([1, 2, 3], [2, 2]) }), 'shape_mismatch')
    expectCode(() => serializeSafetensors({ x: f32([1], [-1]) }), 'shape_mismatch')
    expectCode(() => serializeSafetensors({ x: f32([1], [1]) }, {}, { storeAs: () => 'I64' }), 'unknown_dtype')
    expectCode(() => serializeSafetensors({ __metadata__: f32([1], [1]) }), 'bad_json')
    expectCode(() => serializeSafetensors({}, { n: 3 as unknown as string }), 'bad_json')
  })
})

describe('reference file written by PyTorch fixture script', () => {
  const bytes = new Uint8Array(readFileSync(fixture('reference.safetensors')))
  const expected = JSON.parse(readFileSync(fixture('reference.json'), 'utf8')) as {
    metadata: Record<string, string>
    tensors: Record<string, { dtype: string; shape: number[]; values: unknown }>
    rounding_f16_bits: number[]
  }
  const file = parseSafetensors(bytes)

  it('has misaligned tensors, so the copying path is exercised', () => {
    expect(file.info('b.f32').byteOffset % 4).not.toBe(0)
  })

  it('decodes every dtype to the values PyTorch holds', () => {
    expect(file.metadata).toEqual(expected.metadata)
    const hostDType: Record<string, string> = {
      U8: 'i32', F32: 'f32', F16: 'f32', BF16: 'f32', I64: 'i32', I32: 'i32', BOOL: 'i32', F64: 'f32', I8: 'i32', I16: 'i32',
    }
    for (const [name, want] of Object.entries(expected.tensors)) {
      const info = file.info(name)
      expect(info.dtype, name).toBe(want.dtype)
      const tensor = file.get(name)
      expect(tensor.shape, name).toEqual(want.shape)
      expect(tensor.dtype, name).toBe(hostDType[want.dtype])
      const flat = [want.values].flat(Infinity as 1) as number[]
      // f64 → f32 loses precision by design; JSON holds the f64 values.
      const wantValues = want.dtype === 'F64' ? flat.map(Math.fround) : flat
      expect(Array.from(tensor.data), name).toEqual(wantValues)
    }
  })

  it('matches PyTorch f32 → f16 rounding, and its f16 bits load unchanged', () => {
    const source = file.get('rounding.f32').data
    const torchBits = expected.rounding_f16_bits
    expect(Array.from(source, f32ToF16Bits)).toEqual(torchBits)
    expect(Array.from(parseSafetensors(bytes, { keepF16: true }).get('rounding.f16').data)).toEqual(torchBits)
    expect(Array.from(file.get('rounding.f16').data)).toEqual(torchBits.map(f16BitsToF32))
  })
})

describe('bulk f16 decoding', () => {
  it('agrees bit for bit with the scalar conversion on all 65536 patterns', () => {
    const all = new Uint16Array(65536).map((_, i) => i)
    const bytes = serializeSafetensors({ all: { dtype: 'f16', shape: [65536], data: all } })
    const decoded = new Uint32Array(parseSafetensors(bytes).get('all').data.buffer)
    const scalar = new Uint32Array(Float32Array.from(all, f16BitsToF32).buffer)
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0
      if (nan) expect((decoded[h]! & 0x7f800000) === 0x7f800000 && (decoded[h]! & 0x7fffff) !== 0).toBe(true)
      else if (decoded[h] !== scalar[h]) expect.fail(`0x${h.toString(16)}`)
    }
  })
})

describe('64-bit integers', () => {
  const i64File = (low: number, high: number, dtype = 'I64') =>
    buildFile({ x: { dtype, shape: [1], data_offsets: [0, 8] } }, new Uint8Array(new Int32Array([low, high]).buffer))

  it('narrows values that fit', () => {
    expect(parseSafetensors(i64File(-3, -1)).get('x').data).toEqual(new Int32Array([-3]))
    expect(parseSafetensors(i64File(-1, 0, 'U64')).get('x')).toEqual({ dtype: 'u32', shape: [1], data: new Uint32Array([4294967295]) })
  })

  it('throws int_overflow naming the tensor and value when they do not', () => {
    expect(expectCode(() => parseSafetensors(i64File(-2147483648, 0)).get('x'), 'int_overflow').message).toMatch(/'x'.*2147483648/)
    expect(expectCode(() => parseSafetensors(i64File(2147483647, -1)).get('x'), 'int_overflow').message).toMatch(/-2147483649/)
    expectCode(() => parseSafetensors(i64File(0, 1, 'U64')).get('x'), 'int_overflow')
  })
})

describe('header validation', () => {
  const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] })
  const data = (n: number) => new Uint8Array(n)

  it('accepts a minimal valid file and a file with no tensors', () => {
    expect(parseSafetensors(buildFile({ a: entry('F32', [2], 0, 8) }, data(8))).names()).toEqual(['a'])
    expect(parseSafetensors(buildFile({})).names()).toEqual([])
  })

  it('truncated', () => {
    expectCode(() => parseSafetensors(new Uint8Array(5)), 'truncated')
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [2], 0, 8) }, data(8)).subarray(0, 12)), 'truncated')
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [2], 0, 8) }, data(7))), 'truncated')
  })

  it('header_too_large', () => {
    const huge = new Uint8Array(16)
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true)
    expectCode(() => parseSafetensors(huge), 'header_too_large')
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [0], 0, 0) }), { maxHeaderBytes: 10 }), 'header_too_large')
  })

  it('bad_json', () => {
    expectCode(() => parseSafetensors(buildFile('{"a": ')), 'bad_json')
    expectCode(() => parseSafetensors(buildFile('[]')), 'bad_json')
    expectCode(() => parseSafetensors(buildFile('')), 'bad_json')
    const invalidUtf8 = buildFile('{"\u00e9":1}')
    invalidUtf8[10] = 0xff
    expectCode(() => parseSafetensors(invalidUtf8), 'bad_json')
    expectCode(() => parseSafetensors(buildFile({ __metadata__: { a: 1 } })), 'bad_json')
    expectCode(() => parseSafetensors(buildFile({ a: 3 })), 'bad_json')
    expectCode(() => parseSafetensors(buildFile({ a: { shape: [], data_offsets: [0, 0] } })), 'bad_json')
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [-1], 0, 0) })), 'bad_json')
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [1.5], 0, 0) })), 'bad_json')
  })

  it('bad_offsets: malformed, reversed, holes, trailing bytes', () => {
    expectCode(() => parseSafetensors(buildFile({ a: { dtype: 'U8', shape: [1], data_offsets: [0] } }, data(1))), 'bad_offsets')
    expectCode(() => parseSafetensors(buildFile({ a: { dtype: 'U8', shape: [1], data_offsets: ['0', 1] } }, data(1))), 'bad_offsets')
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [1], 0.5, 1.5) }, data(2))), 'bad_offsets')
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [0], 1, 0) }, data(1))), 'bad_offsets')
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [1], 1, 2) }, data(2))), 'bad_offsets') // hole at 0
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [1], 0, 1), b: entry('U8', [1], 2, 3) }, data(3))), 'bad_offsets')
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [1], 0, 1) }, data(2))), 'bad_offsets') // trailing
  })

  it('overlap', () => {
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [2], 0, 2), b: entry('U8', [2], 1, 3) }, data(3))), 'overlap')
    expectCode(() => parseSafetensors(buildFile({ a: entry('U8', [2], 0, 2), b: entry('U8', [2], 0, 2) }, data(2))), 'overlap')
  })

  it('unknown_dtype', () => {
    expectCode(() => parseSafetensors(buildFile({ a: entry('F8_E4M3', [1], 0, 1) }, data(1))), 'unknown_dtype')
    expectCode(() => parseSafetensors(buildFile({ a: entry('toString', [1], 0, 1) }, data(1))), 'unknown_dtype')
  })

  it('shape_mismatch', () => {
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [3], 0, 8) }, data(8))), 'shape_mismatch')
    const enormous = 2 ** 40
    expectCode(() => parseSafetensors(buildFile({ a: entry('F32', [enormous, enormous], 0, 0) })), 'shape_mismatch')
  })

  it('not_found lists the available names, truncated', () => {
    const few = parseSafetensors(serializeSafetensors(sample))
    expect(expectCode(() => few.get('nope'), 'not_found').message).toContain('"model.scalar"')
    expectCode(() => few.info('nope'), 'not_found')
    const many: Record<string, HostTensor> = {}
    for (let i = 0; i < 100; i++) many[`layer.${i}.w`] = { dtype: 'f32', shape: [0], data: new Float32Array(0) }
    const message = expectCode(() => parseSafetensors(serializeSafetensors(many)).get('nope'), 'not_found').message
    expect(message).toContain('and 80 more')
    expect(message.length).toBeLessThan(600)
  })
})
