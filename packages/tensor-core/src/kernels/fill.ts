import type { DType } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'
import { computeTypeOf } from './elementwise.js'

export interface FillParams {
  dtype: DType
  size: number
  /** value + step·i: constants (step 0) and ranges. */
  value: number
  step: number
}

const WG = 256

export const fillKernel: Kernel<FillParams> = {
  name: 'fill',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [],
    outputs: [{ name: 'out', dtype: p.dtype }],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'value', type: 'f32' },
      { name: 'step', type: 'f32' },
    ],
    workgroupSize: WG,
    body: `  let i = wg * ${WG}u + lidx;
  if (i >= u.size) { return; }
  out[i] = ${p.dtype}(${computeTypeOf(p.dtype) === 'f32' ? '' : 'round'}(u.value + u.step * f32(i)));`,
  }),
  uniforms: (p) => [p.size, p.value, p.step],
  workgroups: (p) => groupsFor(p.size, WG),
  cpu(p, _inputs, [out]) {
    for (let i = 0; i < p.size; i++) out![i] = p.value + p.step * i
  },
}
