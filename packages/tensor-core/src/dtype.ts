import { DTypeError } from './errors.js'

/** Element types a tensor can hold. `f16` needs the adapter feature `shader-f16` on WebGPU. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32'

/** Host-side arrays by dtype. f16 values live on the host as Float32Array (rounded to f16). */
export type HostArray = Float32Array | Int32Array | Uint32Array
export type HostArrayFor<D extends DType> = D extends 'i32' ? Int32Array : D extends 'u32' ? Uint32Array : Float32Array

export function byteSize(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16'
}

export function dtypeOfArray(data: ArrayLike<number>): DType {
  if (data instanceof Int32Array) return 'i32'
  if (data instanceof Uint32Array) return 'u32'
  if (data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data)) return 'f32'
  throw new DTypeError(`cannot infer a dtype from ${Object.prototype.toString.call(data)}; pass Float32Array, Int32Array or Uint32Array`)
}

export function allocHost(dtype: DType, size: number): HostArray {
  switch (dtype) {
    case 'i32':
      return new Int32Array(size)
    case 'u32':
      return new Uint32Array(size)
    default:
      return new Float32Array(size)
  }
}

/** WGSL scalar type for a dtype. */
export function wgslType(dtype: DType): string {
  return dtype
}

const f32Scratch = new Float32Array(1)
const u32Scratch = new Uint32Array(f32Scratch.buffer)

/** f32 → f16 bits with round-to-nearest-even (what the GPU does when it stores f16). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value
  const x = u32Scratch[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    const half = 1 << (shift - 1)
    const rounded = (mant + half - 1 + ((mant >>> shift) & 1)) >>> shift
    return sign | rounded
  }
  const rounded = mant + 0xfff + ((mant >>> 13) & 1)
  if (rounded & 0x800000) {
    const e2 = e + 1
    return e2 >= 0x1f ? sign | 0x7c00 : sign | (e2 << 10)
  }
  return sign | (e << 10) | (rounded >>> 13)
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exp = (bits >>> 10) & 0x1f
  const mant = bits & 0x3ff
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 0x1f) return mant ? NaN : sign * Infinity
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

/** Rounds every value to the nearest f16, in place: the CPU backend's model of f16 storage. */
export function roundToF16(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = f16BitsToF32(f32ToF16Bits(values[i]!))
  return values
}
