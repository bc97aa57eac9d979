import { workgroupReduceWgsl } from './workgroup-reduce.js'
import type { DType } from '../dtype.js'
import { faultError, groupsFor, KERNEL_FAULTS, type Kernel } from '../kernel.js'

/**
 * Cross-entropy of [rows, n] logits against i32 class targets, with PyTorch's label
 * smoothing ε: loss = lse − (1 − ε)·x[t] − ε·mean(x), and 0 on rows whose target is the
 * ignore index. The forward also stores each row's logsumexp for the backward.
 */
export interface CrossEntropyParams {
  dtype: DType
  rows: number
  n: number
  ignoreIndex: number
  smoothing: number
}

const WG = 128
const ROW_UNIFORMS = [
  { name: 'rows', type: 'u32' as const },
  { name: 'n', type: 'u32' as const },
  { name: 'ignore', type: 'i32' as const },
  { name: 'eps', type: 'f32' as const },
]

function checkTarget(t: number, p: CrossEntropyParams): void {
  if (t !== p.ignoreIndex && (t < 0 || t >= p.n)) throw faultError(KERNEL_FAULTS.crossEntropyTarget, t, p.n, p.ignoreIndex)
}

/**
 * One workgroup per row: max, Σexp and Σx in one pass each. An out-of-range target is a
 * fault (`KERNEL_FAULTS.crossEntropyTarget`): the CPU throws it, the WGSL gives NaN for that
 * row and reports it, so the next read throws the same error.
 */
export const crossEntropyKernel: Kernel<CrossEntropyParams> = {
  name: 'crossEntropy',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'x', dtype: p.dtype },
      { name: 'targets', dtype: 'i32' },
    ],
    outputs: [
      { name: 'loss', dtype: 'f32' },
      { name: 'lse', dtype: 'f32' },
    ],
    uniforms: ROW_UNIFORMS,
    workgroupSize: WG,
    faults: true,
    module: workgroupReduceWgsl(WG),
    body: `  if (wg >= u.rows) { return; }
  let base = wg * u.n;
  var mx = -3.4028234663852886e38;
  var sx = 0.0;
  for (var c = lidx; c < u.n; c += ${WG}u) { let v = f32(x[base + c]); mx = max(mx, v); sx += v; }
  let m = wg_max(mx, lidx);
  let total = wg_sum(sx, lidx);
  var se = 0.0;
  for (var c = lidx; c < u.n; c += ${WG}u) { se += exp(f32(x[base + c]) - m); }
  let l = m + log(wg_sum(se, lidx));
  if (lidx == 0u) {
    lse[wg] = l;
    let t = targets[wg];
    if (t == u.ignore) {
      loss[wg] = 0.0;
    } else if (t < 0 || u32(t) >= u.n) {
      var nan_bits = 0x7fc00000u;
      loss[wg] = bitcast<f32>(nan_bits);
      report_fault(${KERNEL_FAULTS.crossEntropyTarget}u, t, i32(u.n), u.ignore);
    } else {
      loss[wg] = l - (1.0 - u.eps) * f32(x[base + u32(t)]) - u.eps * total / f32(u.n);
    }
  }`,
  }),
  uniforms: (p) => [p.rows, p.n, p.ignoreIndex, p.smoothing],
  workgroups: (p) => p.rows,
  cpu(p, [x, target], [loss, lse]) {
    for (let r = 0; r < p.rows; r++) {
      const row = x!.subarray(r * p.n, (r + 1) * p.n)
      let m = -Infinity
      let total = 0
      for (const v of row) {
        m = Math.max(m, v)
        total += v
      }
      let se = 0
      for (const v of row) se += Math.exp(v - m)
      const l = m + Math.log(se)
      const t = target![r]!
      checkTarget(t, p)
      lse![r] = l
      loss![r] = t === p.ignoreIndex ? 0 : l - (1 - p.smoothing) * row[t]! - (p.smoothing * total) / p.n
    }
  },
}

/** dx = g[row] · (softmax(x) − (1 − ε)·onehot(t) − ε/n), zero on ignored rows. */
export const crossEntropyBackwardKernel: Kernel<CrossEntropyParams> = {
  name: 'crossEntropyBackward',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'x', dtype: p.dtype },
      { name: 'targets', dtype: 'i32' },
      { name: 'lse', dtype: 'f32' },
      { name: 'g', dtype: 'f32' },
    ],
    outputs: [{ name: 'dx', dtype: p.dtype }],
    uniforms: ROW_UNIFORMS,
    workgroupSize: 256,
    body: `  let e = wg * 256u + lidx;
  if (e >= u.rows * u.n) { return; }
  let r = e / u.n;
  let t = targets[r];
  let soft = exp(f32(x[e]) - lse[r]) - select(0.0, 1.0 - u.eps, i32(e % u.n) == t) - u.eps / f32(u.n);
  dx[e] = ${p.dtype}(select(g[r] * soft, 0.0, t == u.ignore));`,
  }),
  uniforms: (p) => [p.rows, p.n, p.ignoreIndex, p.smoothing],
  workgroups: (p) => groupsFor(p.rows * p.n, 256),
  cpu(p, [x, target, lse, g], [dx]) {
    for (let e = 0; e < p.rows * p.n; e++) {
      const r = Math.floor(e / p.n)
      const t = target![r]!
      const soft = Math.exp(x![e]! - lse![r]!) - (e % p.n === t ? 1 - p.smoothing : 0) - p.smoothing / p.n
      dx![e] = t === p.ignoreIndex ? 0 : g![r]! * soft
    }
  },
}
