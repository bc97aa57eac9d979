import { noGrad, record } from '../autograd.js'
import { DTypeError, InvalidArgumentError, ShapeError } from '../errors.js'
import type { DType } from '../dtype.js'
import { LOWEST_F32, topPKernel } from '../kernels/sample-top-p.js'
import { topKKernel } from '../kernels/topk.js'
import { fmt, sizeOf } from '../shape.js'
import { tidy } from '../scope.js'
import type { Tensor } from '../tensor.js'
import { scatterAdd } from './embedding.js'
import { add, div, lt, where } from './elementwise.js'
import { slice } from './layout.js'
import { randomGumbel, type RandomStreamOptions } from './random.js'
import { argmax } from './reduce.js'

const FLOATS: readonly DType[] = ['f32', 'f16']

/** [rows, n] view of a float tensor over its last dim. */
function rowsOf(name: string, x: Tensor): { rows: number; n: number } {
  if (!FLOATS.includes(x.dtype)) throw new DTypeError(`${name} needs f32 or f16 values, got ${x.dtype}`)
  if (x.rank === 0) throw new ShapeError(`${name} needs at least one dim`)
  const n = x.shape[x.rank - 1]!
  return { rows: sizeOf(x.shape.slice(0, -1)), n }
}

/**
 * The k largest values along the last dim, sorted descending (ties: lower index first),
 * and their i32 indices. Gradients flow to the picked positions of x. Rows must not hold NaN.
 */
export function topK(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const { rows, n } = rowsOf('topK', x)
  if (!Number.isInteger(k) || k < 1 || k > n) throw new InvalidArgumentError(`topK: k must be an integer in [1, ${n}] for ${fmt(x.shape)}, got ${k}`)
  const shape = [...x.shape.slice(0, -1), k]
  const values = x.device.empty(shape, x.dtype)
  const indices = x.device.empty(shape, 'i32')
  if (rows > 0) x.device.backend.run(topKKernel, { dtype: x.dtype, rows, n, k }, [x.storage], [values.storage, indices.storage])
  record(values, 'topK', [x], (g) => [scatterAdd(g, indices, x.shape, { dtype: g.dtype, outer: rows, n, k, inner: 1 })])
  return { values, indices }
}

/** Keeps the k largest logits per row (and any tied with the k-th); the rest become the lowest f32. */
export function filterTopK(logits: Tensor, k: number): Tensor {
  return tidy(() => noGrad(() => {
    const { values } = topK(logits, k)
    const kth = slice(values, [...logits.shape.slice(0, -1).map(() => undefined), { start: k - 1 }])
    return where(lt(logits, kth), LOWEST_F32, logits)
  }))
}

/**
 * Nucleus filter: per row keeps the smallest set of largest logits whose softmax mass is at
 * least p (plus ties of the last kept one); the rest become the lowest f32.
 */
export function filterTopP(logits: Tensor, p: number): Tensor {
  const { rows, n } = rowsOf('filterTopP', logits)
  if (!(p > 0 && p <= 1)) throw new InvalidArgumentError(`filterTopP: p must be in (0, 1], got ${p}`)
  const y = logits.device.empty(logits.shape, logits.dtype)
  if (y.size > 0) logits.device.backend.run(topPKernel, { dtype: logits.dtype, rows, n, p }, [logits.storage], [y.storage])
  return y
}

/**
 * One class per row of [..., V] logits, drawn from softmax(logits / temperature) with the
 * gumbel-max trick on the device's random stream (or an explicit {seed, offset}); i32 [...].
 * Temperature 0 picks the argmax.
 */
export function categoricalSample(logits: Tensor, opts: RandomStreamOptions & { temperature?: number } = {}): Tensor {
  rowsOf('categoricalSample', logits)
  const temperature = opts.temperature ?? 1
  if (!(temperature >= 0)) throw new InvalidArgumentError(`categoricalSample: temperature must be >= 0, got ${temperature}`)
  if (temperature === 0) return noGrad(() => argmax(logits, -1))
  return tidy(() => noGrad(() => {
    const noise = randomGumbel(logits.device, logits.shape, opts)
    return argmax(add(temperature === 1 ? logits : div(logits, temperature), noise), -1)
  }))
}
