import { record } from '../autograd.js'
import { DTypeError, ShapeError } from '../errors.js'
import { gatherKernel, type GatherParams } from '../kernels/gather.js'
import { scatterAddKernel } from '../kernels/scatter.js'
import { fmt, normalizeAxis, sizeOf, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { arange, emptyTensor } from './creation.js'
import { elementwise, FORMULAS } from './elementwise.js'
import { reshape } from './layout.js'

function checkIndex(name: string, index: Tensor): void {
  if (index.dtype !== 'i32') throw new DTypeError(`${name} needs i32 indices, got ${index.dtype}`)
}

/** Runs the gather, and records its adjoint (scatter-add into x's shape) for x. */
function gatherRows(name: string, x: Tensor, index: Tensor, outShape: Shape, p: GatherParams): Tensor {
  const out = emptyTensor(x.device, outShape, x.dtype)
  if (out.size > 0) x.device.backend.run(gatherKernel, p, [x.storage, index.storage], [out.storage])
  record(out, name, [x], (g) => [scatterAdd(g, index, x.shape, p)])
  return out
}

/** The adjoint of a gather with params `p`: `g` summed into a zero tensor of `shape`. */
export function scatterAdd(g: Tensor, index: Tensor, shape: Shape, p: GatherParams): Tensor {
  const gx = emptyTensor(g.device, shape, g.dtype)
  if (gx.size > 0) g.device.backend.run(scatterAddKernel, { ...p, dtype: g.dtype }, [g.storage, index.storage], [gx.storage])
  return gx
}

/**
 * Rows of `weight` [V, D] picked by i32 `ids` of any shape → [...ids.shape, D]. The gradient
 * of `weight` sums the upstream rows of every position holding the same id (deterministic).
 * Out-of-range ids throw on the CPU backend; on WebGPU, which cannot report them, they
 * give zero rows and no gradient.
 */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  checkIndex('embedding', ids)
  if (weight.rank !== 2) throw new ShapeError(`embedding weight must be [vocab, dim], got ${fmt(weight.shape)}`)
  const [vocab, dim] = weight.shape as [number, number]
  return gatherRows('embedding', weight, ids, [...ids.shape, dim], {
    dtype: weight.dtype,
    outer: 1,
    n: vocab,
    k: ids.size,
    inner: dim,
    indexPerElement: false,
  })
}

/**
 * Values of `x` at `index` along `axis` (torch.take_along_dim / torch.gather with an index
 * of x's shape except along `axis`): out[..., j, ...] = x[..., index[..., j, ...], ...].
 * Out-of-range indices behave as in `embedding`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', index)
  const a = normalizeAxis(axis, x.rank)
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new ShapeError(`gather along ${axis}: index ${fmt(index.shape)} must match ${fmt(x.shape)} except in dim ${a}`)
  }
  return gatherRows('gather', x, index, index.shape, {
    dtype: x.dtype,
    outer: sizeOf(x.shape.slice(0, a)),
    n: x.shape[a]!,
    k: index.shape[a]!,
    inner: sizeOf(x.shape.slice(a + 1)),
    indexPerElement: true,
  })
}

/** f32 one-hot rows [...ids.shape, numClasses]; ids outside [0, numClasses) give zero rows. */
export function oneHot(ids: Tensor, numClasses: number): Tensor {
  checkIndex('oneHot', ids)
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`oneHot needs a positive integer class count, got ${numClasses}`)
  const classes = arange(ids.device, numClasses)
  const column = reshape(ids, [...ids.shape, 1])
  const out = elementwise(FORMULAS.eq, [column, classes], { outDtype: 'f32', compute: 'i32' })
  classes.dispose()
  column.dispose()
  return out
}
