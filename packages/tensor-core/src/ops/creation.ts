import type { Device } from '../device.js'
import type { DType } from '../dtype.js'
import { fillKernel } from '../kernels/fill.js'
import type { Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'

// Ops make their outputs with `device.empty` (fresh, uninitialised storage), so no op module
// constructs a Tensor itself: Tensor sits above the ops (its backward() runs them).

export function full<D extends DType = 'f32'>(device: Device, shape: Shape, value: number, dtype: D = 'f32' as D): Tensor<D> {
  const t = device.empty(shape, dtype)
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
  const t = device.empty([n], dtype)
  device.backend.run(fillKernel, { dtype, size: n, value: opts.start ?? 0, step: opts.step ?? 1 }, [], [t.storage])
  return t
}
