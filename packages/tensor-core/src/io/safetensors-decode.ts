import { SafetensorsError } from './errors.js'
import { bf16ArrayToF32, f16ArrayToF32 } from './half.js'
import type { HostTensor } from './host-tensor.js'
import type { SafetensorsDType } from './safetensors-dtype.js'

export interface DecodeOptions {
  /**
   * F16 tensors load as f32 by default. Set to keep them as raw f16 bit
   * patterns (`dtype: 'f16'`, `Uint16Array`), halving memory for GPU upload.
   */
  keepF16?: boolean
}

/**
 * Convert one tensor's stored bytes (little-endian, as safetensors mandates;
 * we assume a little-endian host, as every WebGPU platform is) into a HostTensor:
 *
 *   F32 → f32          F16 → f32 (or raw f16 with keepF16)   BF16, F64 → f32
 *   I32 → i32          I64 → i32 (int_overflow if out of range)
 *   U32 → u32          U64 → u32 (int_overflow if out of range)
 *   I16, U16, I8, U8, BOOL → i32 (widened: WGSL has no narrow integer types; BOOL → 0/1)
 *
 * F32/I32/U32 (and F16 kept raw) whose bytes are aligned for their element
 * size are returned as views sharing memory with `bytes` (no copy for the big
 * tensors); misaligned or converted data is a fresh array.
 */
export function decodeTensor(
  name: string,
  dtype: SafetensorsDType,
  shape: number[],
  bytes: Uint8Array,
  options: DecodeOptions = {},
): HostTensor {
  const shapeCopy = [...shape]
  switch (dtype) {
    case 'F32':
      return { dtype: 'f32', shape: shapeCopy, data: view(bytes, Float32Array) }
    case 'I32':
      return { dtype: 'i32', shape: shapeCopy, data: view(bytes, Int32Array) }
    case 'U32':
      return { dtype: 'u32', shape: shapeCopy, data: view(bytes, Uint32Array) }
    case 'F16': {
      const bits = view(bytes, Uint16Array)
      return options.keepF16
        ? { dtype: 'f16', shape: shapeCopy, data: bits }
        : { dtype: 'f32', shape: shapeCopy, data: f16ArrayToF32(bits) }
    }
    case 'BF16':
      return { dtype: 'f32', shape: shapeCopy, data: bf16ArrayToF32(view(bytes, Uint16Array)) }
    case 'F64':
      return { dtype: 'f32', shape: shapeCopy, data: Float32Array.from(view(bytes, Float64Array)) }
    case 'I64':
      return { dtype: 'i32', shape: shapeCopy, data: narrowInt64(name, bytes, true) }
    case 'U64':
      return { dtype: 'u32', shape: shapeCopy, data: new Uint32Array(narrowInt64(name, bytes, false).buffer) }
    case 'I16':
      return { dtype: 'i32', shape: shapeCopy, data: Int32Array.from(view(bytes, Int16Array)) }
    case 'U16':
      return { dtype: 'i32', shape: shapeCopy, data: Int32Array.from(view(bytes, Uint16Array)) }
    case 'I8':
      return { dtype: 'i32', shape: shapeCopy, data: Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length)) }
    case 'U8':
      return { dtype: 'i32', shape: shapeCopy, data: Int32Array.from(bytes) }
    case 'BOOL':
      return { dtype: 'i32', shape: shapeCopy, data: Int32Array.from(bytes, (b) => (b === 0 ? 0 : 1)) }
  }
}

type TypedArrayConstructor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T
  BYTES_PER_ELEMENT: number
}

/** A typed view of `bytes`, copying first only when the offset is misaligned for the element type. */
function view<T>(bytes: Uint8Array, type: TypedArrayConstructor<T>): T {
  const length = bytes.length / type.BYTES_PER_ELEMENT
  if (bytes.byteOffset % type.BYTES_PER_ELEMENT === 0) return new type(bytes.buffer, bytes.byteOffset, length)
  return new type(bytes.slice().buffer, 0, length)
}

/**
 * Keep the low 32-bit word of each little-endian 64-bit integer, checking that
 * the high word is just its sign (signed) or zero (unsigned) so nothing is lost.
 * Returns the words as Int32Array; the unsigned caller reinterprets them.
 */
function narrowInt64(name: string, bytes: Uint8Array, signed: boolean): Int32Array {
  const words = view(bytes, Int32Array)
  const out = new Int32Array(words.length / 2)
  for (let i = 0; i < out.length; i++) {
    const low = words[2 * i]!
    const high = words[2 * i + 1]!
    if (high !== (signed ? low >> 31 : 0)) {
      const value = (BigInt(high) << 32n) | BigInt(low >>> 0)
      throw new SafetensorsError(
        'int_overflow',
        `tensor '${name}' element ${i} = ${signed ? value : BigInt.asUintN(64, value)} does not fit in ${signed ? 'int32' : 'uint32'}`,
      )
    }
    out[i] = low
  }
  return out
}
