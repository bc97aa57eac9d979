import type { DType } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'
import { ShapeError } from '../errors.js'

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp'

/**
 * Reduction of axes 0 and 2 of a [pre, outer, n, inner] view: out[o][i] combines x[a][o][k][i]
 * over a and k. `pre` > 1 (a second run of reduced axes in front, as the [0, 2, 3] of a
 * convolution's bias gradient) only for sum, max and min; it is 1 for the other ops.
 */
export interface ReduceParams {
  op: ReduceOp
  dtype: DType
  pre: number
  outer: number
  n: number
  inner: number
}

/**
 * Lanes per row in the row layout. 64 rather than 256: each tree step is a barrier, which
 * software adapters pay per step for the whole workgroup; 1,024 rows of 512 summed in 3.1 ms
 * on lavapipe instead of 14.8 ms, and GPUs still get 64 contiguous loads per step.
 */
const ROW_WG = 64
/** Shortest reduced axis that the row layout takes (see `usesRowLayout`). */
const ROW_MIN = 256
const COL_WG = 64

/**
 * -∞ for max/min identities and all -∞ logsumexp, so results match the CPU on rows of
 * infinities. Built at run time: a constant infinity is a WGSL shader-creation error.
 */
const NEG_INF_WGSL = 'fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }'

const isArg = (op: ReduceOp) => op === 'argmax' || op === 'argmin'
export const reduceOutDtype = (op: ReduceOp, dtype: DType): DType => (isArg(op) ? 'i32' : dtype === 'f16' ? 'f16' : dtype)

/**
 * Identity element and combine step of each op, in WGSL (values in f32 or the int type). As in
 * PyTorch, a NaN wins: max/min/logsumexp of a row holding one are NaN, argmax/argmin its
 * (first) index.
 */
function combine(op: ReduceOp, t: string): { init: string; step: (acc: string, v: string) => string } {
  switch (op) {
    case 'max':
    case 'argmax':
      return { init: t === 'f32' ? 'neg_inf()' : t === 'i32' ? '-2147483647 - 1' : '0u', step: (a, v) => (t === 'f32' ? `nan_max(${a}, ${v})` : `max(${a}, ${v})`) }
    case 'min':
    case 'argmin':
      return { init: t === 'f32' ? '-neg_inf()' : t === 'i32' ? '2147483647' : '4294967295u', step: (a, v) => (t === 'f32' ? `nan_min(${a}, ${v})` : `min(${a}, ${v})`) }
    default:
      return { init: `${t}(0)`, step: (a, v) => `${a} + ${v}` }
  }
}

/** WGSL: `v` replaces the best so far `acc` of an arg reduction (a NaN beats any number). */
function beats(op: ReduceOp, t: string, v: string, acc: string): string {
  const cmp = op === 'argmax' ? `${v} > ${acc}` : `${v} < ${acc}`
  return t === 'f32' ? `(${cmp} || (tessera_is_nan(${v}) && !tessera_is_nan(${acc})))` : cmp
}

/** WGSL: two candidates of an arg reduction tie (equal, or both NaN): the lower index wins. */
function ties(t: string, a: string, b: string): string {
  return t === 'f32' ? `(${a} == ${b} || (tessera_is_nan(${a}) && tessera_is_nan(${b})))` : `${a} == ${b}`
}

/**
 * Two layouts: when the reduced axis is innermost (`inner == 1`) and at least `ROW_MIN`
 * long, a workgroup owns a row and reduces it with a tree in workgroup memory; otherwise each
 * invocation owns one output and walks the axis (neighbouring invocations read neighbouring
 * addresses when inner > 1). Short rows go the second way: a workgroup per 2-element row
 * (a nearest-upsample backward) left 254 of 256 lanes idle and took 6 s for 2^19 rows on lavapipe.
 */
const usesRowLayout = (p: ReduceParams) => p.inner === 1 && p.n >= ROW_MIN

export const reduceKernel: Kernel<ReduceParams> = {
  name: 'reduce',
  key: (p) => `${p.op}|${p.dtype}|${usesRowLayout(p) ? 'row' : 'col'}`,
  shader(p) {
    const t = p.dtype === 'f16' ? 'f32' : p.dtype
    const outDtype = reduceOutDtype(p.op, p.dtype)
    const { init, step } = combine(p.op, t)
    if (p.pre !== 1 && (isArg(p.op) || p.op === 'logsumexp')) throw new ShapeError(`reduce: ${p.op} over two runs of axes is not supported`)
    const uniforms = [
      { name: 'pre', type: 'u32' as const },
      { name: 'outer', type: 'u32' as const },
      { name: 'n', type: 'u32' as const },
      { name: 'inner', type: 'u32' as const },
    ]
    const io = { inputs: [{ name: 'x', dtype: p.dtype }], outputs: [{ name: 'out', dtype: outDtype }], uniforms }
    const finish = (acc: string, idx: string) =>
      isArg(p.op) ? `i32(${idx})` : `${outDtype}(${acc})`
    if (!usesRowLayout(p)) {
      const loop =
        p.op === 'logsumexp'
          ? `var m = -3.4028234663852886e38;
  for (var k = 0u; k < u.n; k++) { m = nan_max(m, f32(x[base + k * u.inner])); }
  var acc = 0.0;
  for (var k = 0u; k < u.n; k++) { acc += exp(f32(x[base + k * u.inner]) - m); }
  out[o] = ${outDtype}(select(m + log(acc), neg_inf(), m == -3.4028234663852886e38));`
          : isArg(p.op)
            ? `var acc = ${init};
  var best = 0u;
  for (var k = 0u; k < u.n; k++) {
    let v = ${t}(x[base + k * u.inner]);
    if (${beats(p.op, t, 'v', 'acc')} || k == 0u) { acc = v; best = k; }
  }
  out[o] = ${finish('acc', 'best')};`
            : `var acc = ${init};
  let preStride = u.outer * u.n * u.inner;
  for (var a = 0u; a < u.pre; a++) {
    for (var k = 0u; k < u.n; k++) { acc = ${step('acc', `${t}(x[a * preStride + base + k * u.inner])`)}; }
  }
  out[o] = ${finish('acc', '0u')};`
      return {
        ...io,
        workgroupSize: COL_WG,
        module: NEG_INF_WGSL,
        body: `  let o = wg * ${COL_WG}u + lidx;
  if (o >= u.outer * u.inner) { return; }
  let base = (o / u.inner) * u.n * u.inner + o % u.inner;
  ${loop}`,
      }
    }
    // Row layout: tree reduction of (value, index) pairs in workgroup memory.
    const treeStep = isArg(p.op)
      ? `let ov = vals[lidx + s]; let oi = idxs[lidx + s];
      if (${beats(p.op, t, 'ov', 'vals[lidx]')} || (${ties(t, 'ov', 'vals[lidx]')} && oi < idxs[lidx])) { vals[lidx] = ov; idxs[lidx] = oi; }`
      : `vals[lidx] = ${step('vals[lidx]', 'vals[lidx + s]')};`
    const treeOf = (stepStatement: string) => `
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lidx < s) { ${stepStatement} }
  }
  workgroupBarrier();`
    const tree = treeOf(treeStep)
    const accumulate = isArg(p.op)
      ? `var acc = ${init}; var best = 0xffffffffu;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) {
    let v = ${t}(x[base + k]);
    if (${beats(p.op, t, 'v', 'acc')} || best == 0xffffffffu) { acc = v; best = k; }
  }
  vals[lidx] = acc; idxs[lidx] = best;`
      : p.op === 'logsumexp'
        ? `var mx = -3.4028234663852886e38;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) { mx = nan_max(mx, f32(x[base + k])); }
  vals[lidx] = mx;${treeOf('vals[lidx] = nan_max(vals[lidx], vals[lidx + s]);')}
  let m = vals[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) { acc += exp(f32(x[base + k]) - m); }
  vals[lidx] = acc;`
        : `var acc = ${init};
  for (var a = 0u; a < u.pre; a++) {
    let row = (a * u.outer + wg) * u.n;
    for (var k = lidx; k < u.n; k += ${ROW_WG}u) { acc = ${step('acc', `${t}(x[row + k])`)}; }
  }
  vals[lidx] = acc;`
    const result = p.op === 'logsumexp' ? `${outDtype}(select(m + log(vals[0]), neg_inf(), m == -3.4028234663852886e38))` : finish('vals[0]', 'idxs[0]')
    return {
      ...io,
      workgroupSize: ROW_WG,
      module: `${NEG_INF_WGSL}\nvar<workgroup> vals: array<${p.op === 'logsumexp' ? 'f32' : t}, ${ROW_WG}>;\nvar<workgroup> idxs: array<u32, ${ROW_WG}>;`,
      body: `  if (wg >= u.outer) { return; }
  let base = wg * u.n;
  ${accumulate}${tree}
  if (lidx == 0u) { out[wg] = ${result}; }`,
    }
  },
  uniforms: (p) => [p.pre, p.outer, p.n, p.inner],
  workgroups: (p) => (usesRowLayout(p) ? p.outer : groupsFor(p.outer * p.inner, COL_WG)),
  cpu(p, [x], [out]) {
    for (let o = 0; o < p.outer; o++) {
      for (let i = 0; i < p.inner; i++) {
        const base = o * p.n * p.inner + i
        let acc = p.op === 'max' || p.op === 'argmax' ? -Infinity : p.op === 'min' || p.op === 'argmin' ? Infinity : 0
        let best = 0
        if (p.op === 'logsumexp') {
          let m = -Infinity
          for (let k = 0; k < p.n; k++) m = Math.max(m, x![base + k * p.inner]!)
          for (let k = 0; k < p.n; k++) acc += Math.exp(x![base + k * p.inner]! - m)
          out![o * p.inner + i] = m === -Infinity ? m : m + Math.log(acc)
          continue
        }
        for (let a = 0; a < p.pre; a++) {
          for (let k = 0; k < p.n; k++) {
            const v = x![a * p.outer * p.n * p.inner + base + k * p.inner]!
            // A NaN wins (PyTorch): max/min become NaN, argmax/argmin point at the first NaN.
            const nanWins = Number.isNaN(v) && !Number.isNaN(acc)
            if (p.op === 'sum') acc += v
            else if ((p.op === 'max' || p.op === 'argmax') && (v > acc || nanWins || (a === 0 && k === 0))) [acc, best] = [v, k]
            else if ((p.op === 'min' || p.op === 'argmin') && (v < acc || nanWins || (a === 0 && k === 0))) [acc, best] = [v, k]
          }
        }
        out![o * p.inner + i] = isArg(p.op) ? best : acc
      }
    }
  },
}
