import { noGrad, record } from '../autograd.js'
import { reduceKernel, reduceOutDtype, type ReduceOp } from '../kernels/reduce.js'
import { normalizeAxis, shapesEqual, sizeOf, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { emptyTensor } from './creation.js'
import { broadcastTo, cast, copy, div, eq, exp, mul, sub } from './elementwise.js'
import { reshape } from './layout.js'
import { ShapeError } from '../errors.js'

export type Axes = number | readonly number[] | undefined

export interface ReduceOptions {
  keepDims?: boolean
}

/** Sorted, normalised axes; all axes when none are given. */
function normalizeAxes(axes: Axes, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i)
  const list = typeof axes === 'number' ? [axes] : [...axes]
  return [...new Set(list.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b)
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d))
}

/**
 * One kernel launch per run of adjacent axes: [outer, n, inner] views need no data movement.
 * Two runs of which the first starts at axis 0 (a convolution's bias gradient sums [0, 2, 3])
 * take one launch for sum, max and min: the [pre, outer, n, inner] view reduces pre and n.
 * Returns the result with reduced dims kept as size 1.
 */
function reduceRaw(x: Tensor, op: ReduceOp, axes: number[]): Tensor {
  // Nothing to reduce (a rank-0 input): still a new tensor, since callers dispose the raw result.
  if (axes.length === 0) return noGrad(() => copy(x))
  // Split axes into runs of adjacent axes; reduce the last run first so earlier indices hold.
  const runs: number[][] = []
  for (const a of axes) {
    const run = runs[runs.length - 1]
    if (run && run[run.length - 1] === a - 1) run.push(a)
    else runs.push([a])
  }
  if (runs.length > 1 && op !== 'sum' && op !== 'max' && op !== 'min') {
    throw new ShapeError(`${op} over non-adjacent axes is not supported; reduce them one at a time`)
  }
  if (runs.length === 2 && runs[0]![0] === 0) {
    const [lead, run] = runs as [number[], number[]]
    const shape = x.shape
    const params = {
      op,
      dtype: x.dtype,
      pre: sizeOf(shape.slice(0, lead.length)),
      outer: sizeOf(shape.slice(lead.length, run[0])),
      n: sizeOf(shape.slice(run[0], run[run.length - 1]! + 1)),
      inner: sizeOf(shape.slice(run[run.length - 1]! + 1)),
    }
    const out = emptyTensor(x.device, keptShape(shape, axes), reduceOutDtype(op, x.dtype))
    if (out.size > 0) x.device.backend.run(reduceKernel, params, [x.storage], [out.storage])
    return out
  }
  let cur = x
  for (let r = runs.length - 1; r >= 0; r--) {
    const run = runs[r]!
    const shape = cur.shape
    const outer = sizeOf(shape.slice(0, run[0]))
    const n = sizeOf(shape.slice(run[0], run[run.length - 1]! + 1))
    const inner = sizeOf(shape.slice(run[run.length - 1]! + 1))
    const out = emptyTensor(x.device, keptShape(shape, run), reduceOutDtype(op, x.dtype))
    if (out.size > 0) x.device.backend.run(reduceKernel, { op, dtype: cur.dtype, pre: 1, outer, n, inner }, [cur.storage], [out.storage])
    if (cur !== x) cur.dispose()
    cur = out
  }
  return cur
}

/**
 * The user-facing result: the raw kept-dims reduction, viewed without the reduced dims
 * unless `keepDims`. Its backward sees the gradient and the result in kept-dims shape.
 */
function finish(
  raw: Tensor,
  x: Tensor,
  name: string,
  axes: number[],
  keepDims: boolean | undefined,
  grad?: (g: Tensor, y: Tensor) => Tensor,
): Tensor {
  const y = keepDims ? raw : view(raw, x.shape.filter((_, i) => !axes.includes(i)))
  if (grad) {
    const kept = raw.shape
    record(y, name, [x], (g) => [grad(reshape(g, kept), reshape(y, kept))])
  }
  return y
}

/** A reshaped view that takes over `raw`'s storage reference. */
function view(raw: Tensor, shape: Shape): Tensor {
  const v = raw.shareStorage(shape)
  raw.dispose()
  return v
}

export function sum(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  const ax = normalizeAxes(axes, x.rank)
  return finish(reduceRaw(x, 'sum', ax), x, 'sum', ax, opts.keepDims, (g) => broadcastTo(g, x.shape))
}

export function mean(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  const ax = normalizeAxes(axes, x.rank)
  const count = ax.reduce((n, a) => n * x.shape[a]!, 1)
  const total = reduceRaw(x, 'sum', ax)
  const raw = noGrad(() => div(total, count))
  total.dispose()
  return finish(raw, x, 'mean', ax, opts.keepDims, (g) => div(broadcastTo(g, x.shape), count))
}

/** max/min; the gradient is shared equally among tied extremes. */
function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  const ax = normalizeAxes(axes, x.rank)
  return finish(reduceRaw(x, op, ax), x, op, ax, opts.keepDims, (g, y) => {
    const mask = cast(eq(x, y), x.dtype)
    return mul(mask, div(g, reduceRaw(mask, 'sum', ax)))
  })
}

export const max = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}) => extreme('max', x, axes, opts)
export const min = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}) => extreme('min', x, axes, opts)

/** Index (i32) of the largest value along one axis; the first one on ties. */
export function argmax(x: Tensor, axis = -1, opts: ReduceOptions = {}): Tensor {
  const a = normalizeAxis(axis, x.rank)
  return finish(reduceRaw(x, 'argmax', [a]), x, 'argmax', [a], opts.keepDims)
}

export function argmin(x: Tensor, axis = -1, opts: ReduceOptions = {}): Tensor {
  const a = normalizeAxis(axis, x.rank)
  return finish(reduceRaw(x, 'argmin', [a]), x, 'argmin', [a], opts.keepDims)
}

/** log Σ exp(x), stable (max-shifted), along one run of adjacent axes. */
export function logsumexp(x: Tensor, axes: Axes = -1, opts: ReduceOptions = {}): Tensor {
  const ax = normalizeAxes(axes, x.rank)
  return finish(reduceRaw(x, 'logsumexp', ax), x, 'logsumexp', ax, opts.keepDims, (g, y) => mul(broadcastTo(g, x.shape), exp(sub(x, y))))
}

/** Sums a broadcast gradient back to the shape of the operand it was broadcast from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g
  const lead = g.rank - shape.length
  const axes: number[] = []
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i)
  if (!axes.length) return reshape(g, shape)
  const summed = view(reduceRaw(g, 'sum', axes), shape)
  record(summed, 'sumToShape', [g], (up) => [broadcastTo(reshape(up, keptShape(g.shape, axes)), g.shape)])
  return summed
}

