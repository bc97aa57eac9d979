import { SafetensorsError } from './errors.js'
import { f32ArrayToF16 } from './half.js'
import type { HostDType, HostTensor } from './host-tensor.js'
import type { SafetensorsDType } from './safetensors-dtype.js'

/** File dtypes each host dtype may be stored as; the first is the default. */
export const STORABLE_AS: Record<HostDType, readonly SafetensorsDType[]> = {
  f32: ['F32', 'F16'],
  f16: ['F16'],
  i32: ['I32', 'I64'],
  u32: ['U32'],
}

export function checkStorable(name: string, tensor: HostTensor, fileDType: SafetensorsDType): void {
  if (!STORABLE_AS[tensor.dtype].includes(fileDType)) {
    throw new SafetensorsError(
      'unknown_dtype',
      `tensor '${name}': cannot store ${tensor.dtype} as ${fileDType} (allowed: ${STORABLE_AS[tensor.dtype].join(', ')})`,
    )
  }
}

/** Little-endian bytes of `tensor` in `fileDType` (which checkStorable accepted). Views when no conversion is needed. */
export function encodeTensor(tensor: HostTensor, fileDType: SafetensorsDType): Uint8Array {
  if (tensor.dtype === 'f32' && fileDType === 'F16') return bytesOf(f32ArrayToF16(tensor.data))
  if (tensor.dtype === 'i32' && fileDType === 'I64') {
    // Two's complement sign extension: the high word is all sign bits.
    const words = new Int32Array(tensor.data.length * 2)
    for (let i = 0; i < tensor.data.length; i++) {
      words[2 * i] = tensor.data[i]!
      words[2 * i + 1] = tensor.data[i]! >> 31
    }
    return bytesOf(words)
  }
  return bytesOf(tensor.data)
}

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
