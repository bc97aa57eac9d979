import type { DType } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'

/**
 * The embedding backward, deterministic and without float atomics, in two steps:
 *
 * 1. `rowLinksKernel`, per position j: `next[j]` = the next position holding the same id
 *    (or -1), and for the first position of each id, `head[id] = j`. First positions are
 *    unique per id, so these writes never race. `head` must be filled with -1 before.
 * 2. `rowChainSumKernel`, per (row v, column d): walks v's chain from `head[v]` in position
 *    order and sums the upstream rows.
 *
 * Work is O(N²) comparisons in the worst case (all ids distinct) for step 1 and
 * O(V·D + N·D) for step 2, instead of O(V·D·N) for "every (v, d) scans every id".
 * Out-of-range ids join no chain: they contribute nothing.
 */
export interface RowLinksParams {
  /** Positions (ids). */
  count: number
  vocab: number
}

const WG = 256

export const rowLinksKernel: Kernel<RowLinksParams> = {
  name: 'rowLinks',
  key: () => '',
  shader: () => ({
    inputs: [{ name: 'ids', dtype: 'i32' }],
    outputs: [
      { name: 'next', dtype: 'i32' },
      { name: 'head', dtype: 'i32' },
    ],
    uniforms: [
      { name: 'count', type: 'u32' },
      { name: 'vocab', type: 'u32' },
    ],
    workgroupSize: WG,
    body: `  let j = wg * ${WG}u + lidx;
  if (j >= u.count) { return; }
  let id = ids[j];
  var after = -1;
  for (var k = j + 1u; k < u.count; k++) { if (ids[k] == id) { after = i32(k); break; } }
  next[j] = after;
  if (id < 0 || u32(id) >= u.vocab) { return; }
  var first = true;
  for (var k = 0u; k < j; k++) { if (ids[k] == id) { first = false; break; } }
  if (first) { head[id] = i32(j); }`,
  }),
  uniforms: (p) => [p.count, p.vocab],
  workgroups: (p) => groupsFor(p.count, WG),
  cpu(p, [ids], [next, head]) {
    const last = new Map<number, number>()
    for (let j = p.count - 1; j >= 0; j--) {
      const id = ids![j]!
      next![j] = last.get(id) ?? -1
      last.set(id, j)
    }
    for (const [id, j] of last) if (id >= 0 && id < p.vocab) head![id] = j
  },
}

export interface RowChainSumParams {
  dtype: DType
  vocab: number
  dim: number
}

export const rowChainSumKernel: Kernel<RowChainSumParams> = {
  name: 'rowChainSum',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'g', dtype: p.dtype },
      { name: 'head', dtype: 'i32' },
      { name: 'next', dtype: 'i32' },
    ],
    outputs: [{ name: 'gw', dtype: p.dtype }],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'dim', type: 'u32' },
    ],
    workgroupSize: WG,
    body: `  let e = wg * ${WG}u + lidx;
  if (e >= u.size) { return; }
  let d = e % u.dim;
  var acc = 0.0;
  var j = head[e / u.dim];
  while (j >= 0) { acc += f32(g[u32(j) * u.dim + d]); j = next[j]; }
  gw[e] = ${p.dtype}(acc);`,
  }),
  uniforms: (p) => [p.vocab * p.dim, p.dim],
  workgroups: (p) => groupsFor(p.vocab * p.dim, WG),
  cpu(p, [g, head, next], [gw]) {
    for (let v = 0; v < p.vocab; v++) {
      for (let d = 0; d < p.dim; d++) {
        // Accumulate in f32, in position order, like the WGSL.
        let acc = 0
        for (let j = head![v]!; j >= 0; j = next![j]!) acc = Math.fround(acc + g![j * p.dim + d]!)
        gw![v * p.dim + d] = acc
      }
    }
  },
}
