import { DTypeError } from './errors.js'
import { f16BitsToF32, f32ToF16Bits } from './io/half.js'

export { f16BitsToF32, f32ToF16Bits }

/** Element types a tensor can hold. `f16` needs the adapter feature `shader-f16` on WebGPU. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32'

/** Every dtype the core has. */
export const DTYPES: readonly DType[] = ['f32', 'f16', 'i32', 'u32']

/** Throws DTypeError for anything but one of DTYPES (JavaScript callers can pass any string). */
export function checkDType(dtype: unknown): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new DTypeError(`unknown dtype ${JSON.stringify(dtype)}: tensors hold ${DTYPES.join(', ')}`)
  }
}

/** Host-side arrays by dtype. f16 values live on the host as Float32Array (rounded to f16). */
export type HostArray = Float32Array | Int32Array | Uint32Array
export type HostArrayFor<D extends DType> = D extends 'i32' ? Int32Array : D extends 'u32' ? Uint32Array : Float32Array

export function byteSize(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16'
}

/**
 * The dtype of a host array: Float32Array → f32, Int32Array → i32, Uint32Array → u32, a plain
 * array of numbers → f32. Other typed arrays (Float64Array, Uint8Array, …) are a DTypeError: the
 * core has no such dtype, and converting them silently hides precision or range loss; pass
 * `{ dtype }` to convert on purpose.
 */
export function dtypeOfArray(data: ArrayLike<number>): DType {
  if (data instanceof Int32Array) return 'i32'
  if (data instanceof Uint32Array) return 'u32'
  if (data instanceof Float32Array || Array.isArray(data)) return 'f32'
  const kind = Object.prototype.toString.call(data).slice(8, -1)
  throw new DTypeError(
    `a ${kind} has no tensor dtype (tensors hold ${DTYPES.join(', ')}): pass a Float32Array, Int32Array or Uint32Array, or { dtype: 'f32' } (or another) to convert it`,
  )
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

/** Rounds every value to the nearest f16, in place: the CPU backend's model of f16 storage. */
export function roundToF16(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = f16BitsToF32(f32ToF16Bits(values[i]!))
  return values
}
