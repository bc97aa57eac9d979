import type { DType } from '../dtype.js'
import { workgroupReduceWgsl } from './workgroup-reduce.js'
import type { Kernel } from '../kernel.js'

export type MaskKind = 'none' | 'add' | 'bool'

/**
 * Softmax (or log-softmax) of each row of an [rows, n] view, with an optional mask broadcast
 * over x: 'add' adds it to the logits, 'bool' keeps positions where it is nonzero. A row
 * with nothing left gives zeros (softmax) or the lowest float (log-softmax), not NaN; a row
 * holding a NaN gives NaN everywhere, as in PyTorch.
 */
export interface SoftmaxParams {
  dtype: DType
  rows: number
  n: number
  log: boolean
  mask: MaskKind
  maskDtype: DType
  /** Outer (row) dims of x after merging, and the mask's strides over them and over n. */
  outerDims: readonly number[]
  maskOuterStrides: readonly number[]
  maskInnerStride: number
}

const WG = 64
const LOWEST = '-3.4028234663852886e38'

export const softmaxKernel: Kernel<SoftmaxParams> = {
  name: 'softmax',
  key: (p) => `${p.dtype}|${+p.log}|${p.mask}|${p.maskDtype}|${p.outerDims.length}`,
  shader(p) {
    const rank = p.outerDims.length
    const uniforms = [
      { name: 'rows', type: 'u32' as const },
      { name: 'n', type: 'u32' as const },
      { name: 'mInner', type: 'u32' as const },
      ...p.outerDims.flatMap((_, d) => [
        { name: `dim${d}`, type: 'u32' as const },
        { name: `mst${d}`, type: 'u32' as const },
      ]),
    ]
    const masked = p.mask !== 'none'
    const logit = (k: string) =>
      p.mask === 'add'
        ? `f32(x[base + ${k}]) + f32(mask[mbase + ${k} * u.mInner])`
        : `f32(x[base + ${k}])`
    const keep = (k: string) => (p.mask === 'bool' ? `mask[mbase + ${k} * u.mInner] != ${p.maskDtype}(0)` : 'true')
    let mbase = ''
    if (masked) {
      mbase = '  var rem = wg;\n  var mbase = 0u;\n'
      for (let d = rank - 1; d >= 0; d--) mbase += `  { let c = rem % u.dim${d}; rem = rem / u.dim${d}; mbase += c * u.mst${d}; }\n`
    }
    const out = p.log
      ? `select(${LOWEST}, v - m - log(total), nonEmpty && ${keep('k')})`
      : `select(0.0, exp(v - m) / total, nonEmpty && ${keep('k')})`
    return {
      inputs: [{ name: 'x', dtype: p.dtype }, ...(masked ? [{ name: 'mask', dtype: p.maskDtype }] : [])],
      outputs: [{ name: 'y', dtype: p.dtype }],
      uniforms,
      workgroupSize: WG,
      module: workgroupReduceWgsl(WG),
      body: `  if (wg >= u.rows) { return; }
  let base = wg * u.n;
${mbase}  var mx = ${LOWEST};
  for (var k = lidx; k < u.n; k += ${WG}u) { if (${keep('k')}) { mx = nan_max(mx, ${logit('k')}); } }
  let m = wg_max(mx, lidx);
  var s = 0.0;
  for (var k = lidx; k < u.n; k += ${WG}u) { if (${keep('k')}) { s += exp(${logit('k')} - m); } }
  let total = wg_sum(s, lidx);
  // A row with nothing kept (or all -inf) sums to 0 and gives zeros; a NaN among its logits
  // makes its maximum NaN and the row NaN, as in PyTorch.
  let nonEmpty = total > 0.0 || tessera_is_nan(m);
  for (var k = lidx; k < u.n; k += ${WG}u) {
    let v = ${logit('k')};
    y[base + k] = ${p.dtype}(${out});
  }`,
    }
  },
  uniforms: (p) => [p.rows, p.n, p.maskInnerStride, ...p.outerDims.flatMap((d, i) => [d, p.maskOuterStrides[i]!])],
  workgroups: (p) => p.rows,
  cpu(p, [x, mask], [y]) {
    const rank = p.outerDims.length
    const vals = new Float64Array(p.n)
    const keepAt = new Uint8Array(p.n)
    for (let r = 0; r < p.rows; r++) {
      let rem = r
      let mbase = 0
      for (let d = rank - 1; d >= 0; d--) {
        mbase += (rem % p.outerDims[d]!) * p.maskOuterStrides[d]!
        rem = Math.floor(rem / p.outerDims[d]!)
      }
      let m = -Infinity
      for (let k = 0; k < p.n; k++) {
        const mv = p.mask === 'none' ? 0 : mask![mbase + k * p.maskInnerStride]!
        keepAt[k] = p.mask === 'bool' ? +(mv !== 0) : 1
        vals[k] = x![r * p.n + k]! + (p.mask === 'add' ? mv : 0)
        if (keepAt[k]) m = Math.max(m, vals[k]!)
      }
      let total = 0
      for (let k = 0; k < p.n; k++) if (keepAt[k]) total += Math.exp(vals[k]! - m)
      for (let k = 0; k < p.n; k++) {
        const ok = keepAt[k] && (total > 0 || Number.isNaN(m))
        y![r * p.n + k] = p.log ? (ok ? vals[k]! - m - Math.log(total) : -3.4028234663852886e38) : ok ? Math.exp(vals[k]! - m) / total : 0
      }
    }
  },
}
