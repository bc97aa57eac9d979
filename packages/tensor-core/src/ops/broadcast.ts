import { record } from '../autograd.js'
import { ShapeError } from '../errors.js'
import { FORMULAS } from '../kernels/elementwise-formulas.js'
import { fmt, shapesEqual, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { elementwise } from './elementwise-core.js'
import { reshape } from './layout.js'
import { keptShape, reduceRaw, view } from './reduce-core.js'

/*
 * Broadcasting and its adjoint, which are each other's gradients: one module, so that the
 * elementwise and reduction ops both build on it.
 */

/** `x` repeated along broadcast dims to `shape` (a copy); its gradient sums back. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const y = elementwise(FORMULAS.identity, [x], { shape })
  if (!shapesEqual(y.shape, shape)) throw new ShapeError(`cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`)
  record(y, 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)])
  return y
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
