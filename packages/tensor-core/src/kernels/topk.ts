import type { DType } from '../dtype.js'
import type { Kernel } from '../kernel.js'

/** The k largest values of each row of [rows, n], descending, and their i32 indices. */
export interface TopKParams {
  dtype: DType
  rows: number
  n: number
  k: number
}

const WG = 128
const NONE = 0xffffffff

/** Total order of the result: larger value first, then lower index (NaN compares false: rows must not hold it). */
export function ranksBefore(a: number, ia: number, b: number, ib: number): boolean {
  return a > b || (a === b && ia < ib)
}

/**
 * One workgroup per row, k selection rounds: round r finds the best element that ranks
 * after the one picked in round r − 1. The total order makes "already picked" implicit, so
 * no per-row scratch memory is needed; cost is k·n/WG reads per invocation (meant for
 * k up to a few hundred).
 */
export const topKKernel: Kernel<TopKParams> = {
  name: 'topK',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [{ name: 'x', dtype: p.dtype }],
    outputs: [
      { name: 'values', dtype: p.dtype },
      { name: 'indices', dtype: 'i32' },
    ],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'n', type: 'u32' },
      { name: 'k', type: 'u32' },
    ],
    workgroupSize: WG,
    module: `var<workgroup> bestV: array<f32, ${WG}>;
var<workgroup> bestI: array<u32, ${WG}>;
fn ranks_before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  return ib == ${NONE}u || (ia != ${NONE}u && (a > b || (a == b && ia < ib)));
}`,
    body: `  if (wg >= u.rows) { return; }
  let base = wg * u.n;
  var prevV = 0.0;
  var prevI = ${NONE}u;
  for (var r = 0u; r < u.k; r++) {
    var v = 0.0;
    var vi = ${NONE}u;
    for (var c = lidx; c < u.n; c += ${WG}u) {
      let xv = f32(x[base + c]);
      let eligible = prevI == ${NONE}u || xv < prevV || (xv == prevV && c > prevI);
      if (eligible && xv == xv && ranks_before(xv, c, v, vi)) { v = xv; vi = c; }
    }
    bestV[lidx] = v;
    bestI[lidx] = vi;
    for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
      workgroupBarrier();
      if (lidx < s && ranks_before(bestV[lidx + s], bestI[lidx + s], bestV[lidx], bestI[lidx])) {
        bestV[lidx] = bestV[lidx + s];
        bestI[lidx] = bestI[lidx + s];
      }
    }
    workgroupBarrier();
    prevV = bestV[0];
    prevI = bestI[0];
    workgroupBarrier();
    if (lidx == 0u) {
      values[wg * u.k + r] = ${p.dtype}(prevV);
      indices[wg * u.k + r] = i32(prevI);
    }
  }`,
  }),
  uniforms: (p) => [p.rows, p.n, p.k],
  workgroups: (p) => p.rows,
  cpu(p, [x], [values, indices]) {
    const order = Array.from({ length: p.n }, (_, c) => c)
    for (let r = 0; r < p.rows; r++) {
      const row = x!.subarray(r * p.n, (r + 1) * p.n)
      order.sort((a, b) => (ranksBefore(row[a]!, a, row[b]!, b) ? -1 : ranksBefore(row[b]!, b, row[a]!, a) ? 1 : 0))
      for (let j = 0; j < p.k; j++) {
        values![r * p.k + j] = row[order[j]!]!
        indices![r * p.k + j] = order[j]!
      }
    }
  },
}
