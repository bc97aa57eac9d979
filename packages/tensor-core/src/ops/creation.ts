import type { Device } from '../device.js'
import { checkDType, type DType } from '../dtype.js'
import { fillKernel } from '../kernels/fill.js'
import { checkShape, type Shape } from '../shape.js'
import { StorageRef, Tensor } from '../tensor.js'

/** A tensor with fresh, uninitialised storage: the output of every op. */
export function emptyTensor<D extends DType>(device: Device, shape: Shape, dtype: D): Tensor<D> {
  checkShape(shape)
  checkDType(dtype)
  let size = 1
  for (const d of shape) size *= d
  return new Tensor(device, [...shape], dtype, new StorageRef(device.backend.alloc(dtype, size)))
}

export function full<D extends DType = 'f32'>(device: Device, shape: Shape, value: number, dtype: D = 'f32' as D): Tensor<D> {
  const t = emptyTensor(device, shape, dtype)
  device.backend.run(fillKernel, { dtype, size: t.size, value, step: 0 }, [], [t.storage])
  return t
}

export const zeros = <D extends DType = 'f32'>(device: Device, shape: Shape, dtype?: D) => full(device, shape, 0, dtype)
export const ones = <D extends DType = 'f32'>(device: Device, shape: Shape, dtype?: D) => full(device, shape, 1, dtype)
export const zerosLike = (t: Tensor) => full(t.device, t.shape, 0, t.dtype)
export const onesLike = (t: Tensor) => full(t.device, t.shape, 1, t.dtype)

/** [start, start+step, …) with `n` elements. */
export function arange<D extends DType = 'i32'>(device: Device, n: number, opts: { start?: number; step?: number; dtype?: D } = {}): Tensor<D> {
  const dtype = opts.dtype ?? ('i32' as D)
  const t = emptyTensor(device, [n], dtype)
  device.backend.run(fillKernel, { dtype, size: n, value: opts.start ?? 0, step: opts.step ?? 1 }, [], [t.storage])
  return t
}
