import type { Device } from './device.js'
import { f16ArrayToF32 } from './io/half.js'
import type { HostTensor } from './io/host-tensor.js'
import type { Tensor } from './tensor.js'

/** Reads a tensor into a HostTensor (f16 tensors come back as f32 values). */
export async function toHost(t: Tensor): Promise<HostTensor> {
  const data = await t.read()
  const shape = [...t.shape]
  if (data instanceof Int32Array) return { dtype: 'i32', shape, data }
  if (data instanceof Uint32Array) return { dtype: 'u32', shape, data }
  return { dtype: 'f32', shape, data: data as Float32Array }
}

/** Host values as plain numbers-in-a-typed-array: f16 bits are decoded to f32. */
export function hostValues(h: HostTensor): Float32Array | Int32Array | Uint32Array {
  return h.dtype === 'f16' ? f16ArrayToF32(h.data) : h.data
}

export function fromHost(device: Device, h: HostTensor): Tensor {
  return device.tensor(hostValues(h), h.shape)
}
