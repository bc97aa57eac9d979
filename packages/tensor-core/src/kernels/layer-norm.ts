import type { DType } from '../dtype.js'
import { workgroupReduceWgsl } from './workgroup-reduce.js'
import type { Kernel } from '../kernel.js'

/** y = (x - mean) / sqrt(var + eps) · weight + bias over the last dim; also stores mean and 1/std. */
export interface LayerNormParams {
  dtype: DType
  rows: number
  n: number
  eps: number
  affine: boolean
}

const WG = 128

export const layerNormKernel: Kernel<LayerNormParams> = {
  name: 'layerNorm',
  key: (p) => `${p.dtype}|${+p.affine}`,
  shader: (p) => ({
    inputs: [{ name: 'x', dtype: p.dtype }, ...(p.affine ? [{ name: 'w', dtype: p.dtype }, { name: 'b', dtype: p.dtype }] : [])],
    outputs: [
      { name: 'y', dtype: p.dtype },
      { name: 'meanOut', dtype: 'f32' },
      { name: 'rstdOut', dtype: 'f32' },
    ],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'n', type: 'u32' },
      { name: 'eps', type: 'f32' },
    ],
    workgroupSize: WG,
    module: workgroupReduceWgsl(WG),
    body: `  if (wg >= u.rows) { return; }
  let base = wg * u.n;
  var s = 0.0;
  for (var k = lidx; k < u.n; k += ${WG}u) { s += f32(x[base + k]); }
  let mean = wg_sum(s, lidx) / f32(u.n);
  // Two-pass variance: exact enough in f32 even when |mean| >> std.
  var q = 0.0;
  for (var k = lidx; k < u.n; k += ${WG}u) { let d = f32(x[base + k]) - mean; q += d * d; }
  let rstd = inverseSqrt(wg_sum(q, lidx) / f32(u.n) + u.eps);
  for (var k = lidx; k < u.n; k += ${WG}u) {
    let v = (f32(x[base + k]) - mean) * rstd;
    y[base + k] = ${p.dtype}(${p.affine ? 'v * f32(w[k]) + f32(b[k])' : 'v'});
  }
  if (lidx == 0u) { meanOut[wg] = mean; rstdOut[wg] = rstd; }`,
  }),
  uniforms: (p) => [p.rows, p.n, p.eps],
  workgroups: (p) => p.rows,
  cpu(p, [x, w, b], [y, meanOut, rstdOut]) {
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.n
      let s = 0
      for (let k = 0; k < p.n; k++) s += x![base + k]!
      const mean = s / p.n
      let q = 0
      for (let k = 0; k < p.n; k++) q += (x![base + k]! - mean) ** 2
      const rstd = 1 / Math.sqrt(q / p.n + p.eps)
      for (let k = 0; k < p.n; k++) {
        const v = (x![base + k]! - mean) * rstd
        y![base + k] = p.affine ? v * w![k]! + b![k]! : v
      }
      meanOut![r] = mean
      rstdOut![r] = rstd
    }
  },
}
