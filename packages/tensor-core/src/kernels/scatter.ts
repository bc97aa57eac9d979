import type { DType } from '../dtype.js'
import { faultError, groupsFor, KERNEL_FAULTS, type Kernel } from '../kernel.js'

/**
 * The adjoint of a per-element gather along the middle axis of [outer, n, inner]:
 * gx[o, v, i] = Σ_j [index[o, j, i] = v] · g[o, j, i], with index and g of shape [outer, k, inner].
 *
 * One invocation per gx element walks j in order, so sums are deterministic and need no
 * float atomics (WGSL core has none). Cost is outer·n·inner·k comparisons: meant for small
 * gathered axes (picking target logits, top-k). Embeddings use `scatter-rows.ts`.
 * Out-of-range indices are a fault (`KERNEL_FAULTS.index`), as in `gather`; they contribute nothing.
 */
export interface ScatterAddParams {
  dtype: DType
  outer: number
  n: number
  k: number
  inner: number
}

const WG = 256

export const scatterAddKernel: Kernel<ScatterAddParams> = {
  name: 'scatterAdd',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'g', dtype: p.dtype },
      { name: 'index', dtype: 'i32' },
    ],
    outputs: [{ name: 'gx', dtype: p.dtype }],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'n', type: 'u32' },
      { name: 'k', type: 'u32' },
      { name: 'inner', type: 'u32' },
    ],
    workgroupSize: WG,
    faults: true,
    body: `  let e = wg * ${WG}u + lidx;
  if (e >= u.size) { return; }
  let i = e % u.inner;
  let v = i32((e / u.inner) % u.n);
  let rowBase = (e / (u.inner * u.n)) * u.k;
  var acc = 0.0;
  for (var j = 0u; j < u.k; j++) {
    let ge = (rowBase + j) * u.inner + i;
    let idx = index[ge];
    if (idx == v) { acc += f32(g[ge]); }
    // The invocations of v = 0 see every index once: they report the out-of-range ones.
    if (v == 0 && (idx < 0 || u32(idx) >= u.n)) { report_fault(${KERNEL_FAULTS.index}u, idx, i32(u.n), 0); }
  }
  gx[e] = ${p.dtype}(acc);`,
  }),
  uniforms: (p) => [p.outer * p.n * p.inner, p.n, p.k, p.inner],
  workgroups: (p) => groupsFor(p.outer * p.n * p.inner, WG),
  cpu(p, [g, index], [gx]) {
    gx!.fill(0)
    // Accumulate in j order per output element, like the WGSL, in f32.
    const size = p.outer * p.k * p.inner
    for (let e = 0; e < size; e++) {
      const v = index![e]!
      if (v < 0 || v >= p.n) throw faultError(KERNEL_FAULTS.index, v, p.n, 0)
      const at = (Math.floor(e / (p.k * p.inner)) * p.n + v) * p.inner + (e % p.inner)
      gx![at] = Math.fround(gx![at]! + g![e]!)
    }
  },
}
