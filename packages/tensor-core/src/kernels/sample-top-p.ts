import { workgroupReduceWgsl } from './workgroup-reduce.js'
import type { DType } from '../dtype.js'
import type { Kernel } from '../kernel.js'

/**
 * Nucleus filtering of each row of [rows, n] logits: keeps the smallest set of largest
 * logits whose softmax mass reaches `p` (all logits tied with the smallest kept one stay
 * too) and sets the rest to the lowest f32, so a later softmax gives them 0.
 */
export interface TopPParams {
  dtype: DType
  rows: number
  n: number
  p: number
}

const WG = 128
export const LOWEST_F32 = -3.4028234663852886e38

/**
 * Sort-free: floats map to u32 keys in the same order, and 32 bisection steps find the
 * largest key K with mass(x ≥ K) ≥ p·total, one bit at a time from the top. Each step is
 * a masked sum over the row; the full-row sum (total) uses the same order of additions,
 * so p = 1 keeps every logit exactly.
 */
export const topPKernel: Kernel<TopPParams> = {
  name: 'topP',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [{ name: 'x', dtype: p.dtype }],
    outputs: [{ name: 'y', dtype: p.dtype }],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'n', type: 'u32' },
      { name: 'p', type: 'f32' },
    ],
    workgroupSize: WG,
    module: `${workgroupReduceWgsl(WG)}
// Order-preserving map from f32 to u32 (negative floats reversed below the positive ones).
fn order_key(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}`,
    body: `  if (wg >= u.rows) { return; }
  let base = wg * u.n;
  var mx = ${LOWEST_F32};
  for (var c = lidx; c < u.n; c += ${WG}u) { mx = max(mx, f32(x[base + c])); }
  let m = wg_max(mx, lidx);
  var key = 0u;
  // Bit 32 "down to" bit 0: step 0 (cand = 0) computes the total.
  var needed = 0.0;
  for (var step = 0u; step <= 32u; step++) {
    let cand = select(key | (1u << (32u - step)), 0u, step == 0u);
    var s = 0.0;
    for (var c = lidx; c < u.n; c += ${WG}u) {
      let v = f32(x[base + c]);
      if (order_key(v) >= cand) { s += exp(v - m); }
    }
    let mass = wg_sum(s, lidx);
    if (step == 0u) { needed = u.p * mass; } else if (mass >= needed) { key = cand; }
  }
  for (var c = lidx; c < u.n; c += ${WG}u) {
    let v = f32(x[base + c]);
    y[base + c] = ${p.dtype}(select(${LOWEST_F32}, v, order_key(v) >= key));
  }`,
  }),
  uniforms: (p) => [p.rows, p.n, p.p],
  workgroups: (p) => p.rows,
  cpu(p, [x], [y]) {
    const order = Array.from({ length: p.n }, (_, c) => c)
    for (let r = 0; r < p.rows; r++) {
      const row = x!.subarray(r * p.n, (r + 1) * p.n)
      order.sort((a, b) => row[b]! - row[a]!)
      const m = row[order[0]!]!
      let total = 0
      for (const c of order) total += Math.exp(row[c]! - m)
      // Walk down the sorted row until the kept mass reaches p; that value is the cut-off.
      let mass = 0
      let cutoff = row[order[p.n - 1]!]!
      for (const c of order) {
        mass += Math.exp(row[c]! - m)
        if (mass >= p.p * total) {
          cutoff = row[c]!
          break
        }
      }
      for (let c = 0; c < p.n; c++) y![r * p.n + c] = row[c]! >= cutoff ? row[c]! : LOWEST_F32
    }
  },
}
