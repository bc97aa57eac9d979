import type { DType } from '../dtype.js'
import { faultError, groupsFor, KERNEL_FAULTS, type Kernel } from '../kernel.js'

/**
 * out[o, j, i] = x[o, index(o, j, i), i] over an [outer, n, inner] view of x: the middle
 * axis is picked by an i32 index that either has one entry per output element
 * (take_along_dim) or one per (o, j), shared by every i (embedding rows).
 */
export interface GatherParams {
  dtype: DType
  outer: number
  n: number
  k: number
  inner: number
  /** The index has an entry per output element, not one per (o, j). */
  indexPerElement: boolean
}

const WG = 256

/**
 * Out-of-range indices are a fault (`KERNEL_FAULTS.index`): the CPU reference throws its
 * ShapeError at once; the WGSL writes 0 there and reports it, so the next read throws the same.
 */
export const gatherKernel: Kernel<GatherParams> = {
  name: 'gather',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'x', dtype: p.dtype },
      { name: 'index', dtype: 'i32' },
    ],
    outputs: [{ name: 'out', dtype: p.dtype }],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'n', type: 'u32' },
      { name: 'k', type: 'u32' },
      { name: 'inner', type: 'u32' },
      { name: 'perElement', type: 'u32' },
    ],
    workgroupSize: WG,
    faults: true,
    body: `  let e = wg * ${WG}u + lidx;
  if (e >= u.size) { return; }
  let row = e / u.inner;
  let i = e % u.inner;
  let v = index[select(row, e, u.perElement == 1u)];
  if (v < 0 || u32(v) >= u.n) { out[e] = ${p.dtype}(0); report_fault(${KERNEL_FAULTS.index}u, v, i32(u.n), 0); return; }
  out[e] = x[((row / u.k) * u.n + u32(v)) * u.inner + i];`,
  }),
  uniforms: (p) => [p.outer * p.k * p.inner, p.n, p.k, p.inner, +p.indexPerElement],
  workgroups: (p) => groupsFor(p.outer * p.k * p.inner, WG),
  cpu(p, [x, index], [out]) {
    const size = p.outer * p.k * p.inner
    for (let e = 0; e < size; e++) {
      const row = Math.floor(e / p.inner)
      const v = index![p.indexPerElement ? e : row]!
      if (v < 0 || v >= p.n) throw faultError(KERNEL_FAULTS.index, v, p.n, 0)
      out![e] = x![(Math.floor(row / p.k) * p.n + v) * p.inner + (e % p.inner)]!
    }
  },
}

/** Checks that every i32 id is in [0, n) (what torch.one_hot checks), reporting the first that is not as a fault. */
export const checkIndicesKernel: Kernel<{ size: number; n: number }> = {
  name: 'checkIndices',
  key: () => '',
  shader: () => ({
    inputs: [{ name: 'ids', dtype: 'i32' }],
    outputs: [],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'n', type: 'u32' },
    ],
    workgroupSize: WG,
    faults: true,
    body: `  let e = wg * ${WG}u + lidx;
  if (e >= u.size) { return; }
  let v = ids[e];
  if (v < 0 || u32(v) >= u.n) { report_fault(${KERNEL_FAULTS.index}u, v, i32(u.n), 0); }`,
  }),
  uniforms: (p) => [p.size, p.n],
  workgroups: (p) => groupsFor(p.size, WG),
  cpu(p, [ids]) {
    for (let e = 0; e < p.size; e++) {
      const v = ids![e]!
      if (v < 0 || v >= p.n) throw faultError(KERNEL_FAULTS.index, v, p.n, 0)
    }
  },
}
