import { record } from '../autograd.js'
import { DTypeError, InvalidArgumentError, ShapeError } from '../errors.js'
import { checkIndicesKernel, gatherKernel, type GatherParams } from '../kernels/gather.js'
import { scatterAddKernel, type ScatterAddParams } from '../kernels/scatter.js'
import { rowChainSumKernel, rowLinksKernel } from '../kernels/scatter-rows.js'
import { fmt, normalizeAxis, sizeOf, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { arange, full } from './creation.js'
import { FORMULAS } from '../kernels/elementwise-formulas.js'
import { elementwise } from './elementwise-core.js'
import { reshape } from './layout.js'

function checkIndex(name: string, index: Tensor): void {
  if (index.dtype !== 'i32') throw new DTypeError(`${name} needs i32 indices, got ${index.dtype}`)
}

function runGather(x: Tensor, index: Tensor, outShape: Shape, p: GatherParams): Tensor {
  const out = x.device.empty(outShape, x.dtype)
  if (out.size > 0) x.device.backend.run(gatherKernel, p, [x.storage, index.storage], [out.storage])
  return out
}

/** The adjoint of a per-element gather along the middle axis of [outer, n, inner]: `g` summed into a zero tensor of `shape`. */
export function scatterAdd(g: Tensor, index: Tensor, shape: Shape, p: ScatterAddParams): Tensor {
  const gx = g.device.empty(shape, g.dtype)
  if (gx.size > 0) g.device.backend.run(scatterAddKernel, p, [g.storage, index.storage], [gx.storage])
  return gx
}

/** Σ of the rows of g [N, D] into a [vocab, D] gradient by id, via per-id chains of positions. */
function embeddingGrad(g: Tensor, ids: Tensor, vocab: number, dim: number): Tensor {
  const device = g.device
  const gw = device.empty([vocab, dim], g.dtype)
  if (gw.size === 0) return gw
  const head = full(device, [vocab], -1, 'i32')
  const next = device.empty([ids.size], 'i32')
  if (ids.size > 0) device.backend.run(rowLinksKernel, { count: ids.size, vocab }, [ids.storage], [next.storage, head.storage])
  device.backend.run(rowChainSumKernel, { dtype: g.dtype, vocab, dim }, [g.storage, head.storage, next.storage], [gw.storage])
  head.dispose()
  next.dispose()
  return gw
}

/**
 * Rows of `weight` [V, D] picked by i32 `ids` of any shape → [...ids.shape, D]. The gradient
 * of `weight` sums the upstream rows of every position holding the same id (deterministic).
 * An out-of-range id is a ShapeError naming it: at once on the CPU backend; on WebGPU, whose
 * kernels cannot throw, the rows are zeros and the next read throws it.
 */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  checkIndex('embedding', ids)
  if (weight.rank !== 2) throw new ShapeError(`embedding weight must be [vocab, dim], got ${fmt(weight.shape)}`)
  const [vocab, dim] = weight.shape as [number, number]
  const out = runGather(weight, ids, [...ids.shape, dim], { dtype: weight.dtype, outer: 1, n: vocab, k: ids.size, inner: dim, indexPerElement: false })
  record(out, 'embedding', [weight], (g) => [embeddingGrad(g, ids, vocab, dim)])
  return out
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
  const view = { dtype: x.dtype, outer: sizeOf(x.shape.slice(0, a)), n: x.shape[a]!, k: index.shape[a]!, inner: sizeOf(x.shape.slice(a + 1)) }
  const out = runGather(x, index, index.shape, { ...view, indexPerElement: true })
  record(out, 'gather', [x], (g) => [scatterAdd(g, index, x.shape, { ...view, dtype: g.dtype })])
  return out
}

/**
 * f32 one-hot rows [...ids.shape, numClasses]. An id outside [0, numClasses) is a ShapeError,
 * as in torch.one_hot: at once on the CPU backend, at the next read on WebGPU (its row is zeros).
 */
export function oneHot(ids: Tensor, numClasses: number): Tensor {
  checkIndex('oneHot', ids)
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new InvalidArgumentError(`oneHot needs a positive integer class count, got ${numClasses}`)
  if (ids.size > 0) ids.device.backend.run(checkIndicesKernel, { size: ids.size, n: numClasses }, [ids.storage], [])
  const classes = arange(ids.device, numClasses)
  const column = reshape(ids, [...ids.shape, 1])
  const out = elementwise(FORMULAS.eq, [column, classes], { outDtype: 'f32', compute: 'i32' })
  classes.dispose()
  column.dispose()
  return out
}
