import { ShapeError } from '../errors.js'
import { FORMULAS } from '../kernels/elementwise-formulas.js'
import { reduceKernel, reduceOutDtype, type ReduceOp } from '../kernels/reduce.js'
import { normalizeAxis, sizeOf, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { elementwise } from './elementwise-core.js'

export type Axes = number | readonly number[] | undefined

/** Sorted, normalised axes; all axes when none are given. */
export function normalizeAxes(axes: Axes, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i)
  const list = typeof axes === 'number' ? [axes] : [...axes]
  return [...new Set(list.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b)
}

export function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d))
}

/**
 * One kernel launch per run of adjacent axes: [outer, n, inner] views need no data movement.
 * Two runs of which the first starts at axis 0 (a convolution's bias gradient sums [0, 2, 3])
 * take one launch for sum, max and min: the [pre, outer, n, inner] view reduces pre and n.
 * Returns the result with reduced dims kept as size 1.
 */
export function reduceRaw(x: Tensor, op: ReduceOp, axes: number[]): Tensor {
  // Nothing to reduce (a rank-0 input): still a new tensor, since callers dispose the raw result.
  if (axes.length === 0) return elementwise(FORMULAS.identity, [x])
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
    const out = x.device.empty(keptShape(shape, axes), reduceOutDtype(op, x.dtype))
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
    const out = x.device.empty(keptShape(shape, run), reduceOutDtype(op, x.dtype))
    if (out.size > 0) x.device.backend.run(reduceKernel, { op, dtype: cur.dtype, pre: 1, outer, n, inner }, [cur.storage], [out.storage])
    if (cur !== x) cur.dispose()
    cur = out
  }
  return cur
}

/** A reshaped view that takes over `raw`'s storage reference. */
export function view(raw: Tensor, shape: Shape): Tensor {
  const v = raw.shareStorage(shape)
  raw.dispose()
  return v
}
