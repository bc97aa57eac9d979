import { record } from '../autograd.js'
import { ShapeError } from '../errors.js'
import { computeTypeOf, elementwiseKernel } from '../kernels/elementwise.js'
import { FORMULAS } from '../kernels/elementwise-formulas.js'
import { coalesce, fmt, normalizeAxis, sizeOf, stridesOf, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { full } from './creation.js'

/** Same data, new shape (no copy); one dim may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape(shape, x.size, x.shape)
  const y = x.shareStorage(target)
  record(y, 'reshape', [x], (g) => [reshape(g, x.shape)])
  return y
}

function inferShape(shape: Shape, size: number, from: Shape): number[] {
  const out = [...shape]
  const unknown = out.indexOf(-1)
  if (unknown !== out.lastIndexOf(-1)) throw new ShapeError(`reshape ${fmt(from)} → ${fmt(shape)}: only one dim may be -1`)
  if (unknown >= 0) {
    const known = out.reduce((n, d, i) => (i === unknown ? n : n * d), 1)
    if (known === 0 || size % known !== 0) throw new ShapeError(`cannot reshape ${fmt(from)} (${size} elements) to ${fmt(shape)}`)
    out[unknown] = size / known
  }
  if (sizeOf(out) !== size) throw new ShapeError(`cannot reshape ${fmt(from)} (${size} elements) to ${fmt(shape)}`)
  return out
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1)
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1))
  const a = normalizeAxis(axis, x.rank)
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: dim ${axis} of ${fmt(x.shape)} is not 1`)
  return reshape(x, x.shape.filter((_, i) => i !== a))
}

/**
 * Copies a strided view of `src` (shape `shape`, `strides`, `offset`) into `dst`, itself
 * addressed as a strided region. Every layout op is this one kernel with other strides.
 */
export function stridedCopy(
  src: Tensor,
  shape: Shape,
  srcView: { strides: readonly number[]; offset: number },
  dst: Tensor,
  dstView?: { strides: readonly number[]; offset: number },
): void {
  const size = sizeOf(shape)
  if (size === 0) return
  const outStrides = dstView?.strides ?? stridesOf(shape)
  const { dims, strides } = coalesce(shape, [[...srcView.strides], [...outStrides]])
  src.device.backend.run(
    elementwiseKernel,
    {
      op: FORMULAS.identity,
      kinds: ['t'],
      inDtypes: [src.dtype],
      compute: computeTypeOf(dst.dtype),
      outDtype: dst.dtype,
      shape: dims,
      strides: [strides[0]!],
      offsets: [srcView.offset],
      outRegion: dstView ? { strides: strides[1]!, offset: dstView.offset } : undefined,
      scalars: [],
      size,
    },
    [src.storage],
    [dst.storage],
  )
}

/** Reorders dims: `y.shape[i] = x.shape[perm[i]]`. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || new Set(perm.map((p) => normalizeAxis(p, x.rank))).size !== x.rank) {
    throw new ShapeError(`permute of ${fmt(x.shape)} needs a permutation of 0..${x.rank - 1}, got [${perm.join(', ')}]`)
  }
  const p = perm.map((a) => normalizeAxis(a, x.rank))
  const xs = stridesOf(x.shape)
  const shape = p.map((a) => x.shape[a]!)
  const y = x.device.empty(shape, x.dtype)
  stridedCopy(x, shape, { strides: p.map((a) => xs[a]!), offset: 0 }, y)
  const inverse = new Array<number>(p.length)
  p.forEach((a, i) => (inverse[a] = i))
  record(y, 'permute', [x], (g) => [permute(g, inverse)])
  return y
}

/** Swaps two dims (the last two by default). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i)
  const a = normalizeAxis(dim0, x.rank)
  const b = normalizeAxis(dim1, x.rank)
  ;[perm[a], perm[b]] = [perm[b]!, perm[a]!]
  return permute(x, perm)
}

export interface SliceRange {
  start?: number
  end?: number
  step?: number
}

function resolveRange(r: SliceRange | undefined, dim: number): { start: number; len: number; step: number } {
  const step = r?.step ?? 1
  if (!Number.isInteger(step) || step < 1) throw new ShapeError(`slice step must be a positive integer, got ${step}`)
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim)
  const start = clampIdx(r?.start ?? 0)
  const end = clampIdx(r?.end ?? dim)
  return { start, len: Math.max(0, Math.ceil((end - start) / step)), step }
}

/** Python-style slicing per dim (negative indices count from the end; missing dims whole). */
export function slice(x: Tensor, ranges: readonly (SliceRange | undefined)[]): Tensor {
  if (ranges.length > x.rank) throw new ShapeError(`slice of ${fmt(x.shape)} got ${ranges.length} ranges`)
  const rs = x.shape.map((d, i) => resolveRange(ranges[i], d))
  const xs = stridesOf(x.shape)
  const shape = rs.map((r) => r.len)
  const y = x.device.empty(shape, x.dtype)
  stridedCopy(x, shape, { strides: rs.map((r, i) => r.step * xs[i]!), offset: rs.reduce((o, r, i) => o + r.start * xs[i]!, 0) }, y)
  record(y, 'slice', [x], (g) => {
    const gx = full(x.device, x.shape, 0, g.dtype)
    stridedCopy(g, shape, { strides: stridesOf(shape), offset: 0 }, gx, {
      strides: rs.map((r, i) => r.step * xs[i]!),
      offset: rs.reduce((o, r, i) => o + r.start * xs[i]!, 0),
    })
    return [gx]
  })
  return y
}

/** Joins tensors along `axis`; all other dims must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('concat needs at least one tensor')
  const first = tensors[0]!
  const a = normalizeAxis(axis, first.rank)
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat along ${axis}: ${fmt(t.shape)} does not match ${fmt(first.shape)}`)
    }
    if (t.dtype !== first.dtype) throw new ShapeError(`concat: mixed dtypes ${t.dtype} and ${first.dtype}`)
  }
  const shape = [...first.shape]
  shape[a] = tensors.reduce((n, t) => n + t.shape[a]!, 0)
  const y = first.device.empty(shape, first.dtype)
  const ys = stridesOf(shape)
  let at = 0
  const starts: number[] = []
  for (const t of tensors) {
    starts.push(at)
    stridedCopy(t, t.shape, { strides: stridesOf(t.shape), offset: 0 }, y, { strides: ys, offset: at * ys[a]! })
    at += t.shape[a]!
  }
  record(y, 'concat', tensors, (g) =>
    tensors.map((t, i) => (t.requiresGrad ? slice(g, shape.map((_, d) => (d === a ? { start: starts[i]!, end: starts[i]! + t.shape[a]! } : undefined))) : null)),
  )
  return y
}

/** Pads with a constant: `pads[i] = [before, after]` for dim i (missing dims unpadded). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const p = x.shape.map((_, i) => pads[i] ?? ([0, 0] as const))
  if (p.some(([b, e]) => b < 0 || e < 0 || !Number.isInteger(b) || !Number.isInteger(e))) throw new ShapeError('pad amounts must be non-negative integers')
  const shape = x.shape.map((d, i) => d + p[i]![0] + p[i]![1])
  const y = full(x.device, shape, value, x.dtype)
  const ys = stridesOf(shape)
  stridedCopy(x, x.shape, { strides: stridesOf(x.shape), offset: 0 }, y, { strides: ys, offset: p.reduce((o, [b], i) => o + b * ys[i]!, 0) })
  record(y, 'pad', [x], (g) => [slice(g, p.map(([b], i) => ({ start: b, end: b + x.shape[i]! })))])
  return y
}
