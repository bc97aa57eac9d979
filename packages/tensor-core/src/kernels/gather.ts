import type { DType } from '../dtype.js'
import { ShapeError } from '../errors.js'
import { groupsFor, type Kernel } from '../kernel.js'

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
 * Out-of-range indices: the CPU reference throws (a clear error where it is cheap to check);
 * WGSL cannot report, so it writes 0 there.
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
    body: `  let e = wg * ${WG}u + lidx;
  if (e >= u.size) { return; }
  let row = e / u.inner;
  let i = e % u.inner;
  let v = index[select(row, e, u.perElement == 1u)];
  if (v < 0 || u32(v) >= u.n) { out[e] = ${p.dtype}(0); return; }
  out[e] = x[((row / u.k) * u.n + u32(v)) * u.inner + i];`,
  }),
  uniforms: (p) => [p.outer * p.k * p.inner, p.n, p.k, p.inner, +p.indexPerElement],
  workgroups: (p) => groupsFor(p.outer * p.k * p.inner, WG),
  cpu(p, [x, index], [out]) {
    const size = p.outer * p.k * p.inner
    for (let e = 0; e < size; e++) {
      const row = Math.floor(e / p.inner)
      const v = index![p.indexPerElement ? e : row]!
      if (v < 0 || v >= p.n) throw new ShapeError(`index ${v} is out of range [0, ${p.n})`)
      out![e] = x![(Math.floor(row / p.k) * p.n + v) * p.inner + (e % p.inner)]!
    }
  },
}
