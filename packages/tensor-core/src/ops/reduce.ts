import { noGrad, record } from '../autograd.js'
import type { Tensor } from '../tensor.js'
import { normalizeAxis } from '../shape.js'
import { broadcastTo } from './broadcast.js'
import { cast, div, eq, exp, mul, sub } from './elementwise.js'
import { reshape } from './layout.js'
import { normalizeAxes, reduceRaw, view, type Axes } from './reduce-core.js'

export type { Axes }

export interface ReduceOptions {
  keepDims?: boolean
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
