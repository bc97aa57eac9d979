import { DTypeError, ShapeError } from '../errors.js'
import { fmt } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { mul } from './elementwise.js'
import { matmul } from './matmul.js'
import { softmax } from './normalize.js'

export interface AttentionOptions {
  /**
   * Which keys each query may attend to: an i32/u32 tensor broadcastable to [..., Lq, Lk],
   * nonzero = allowed. A query with no allowed key gets zeros.
   */
  mask?: Tensor
  /** Multiplies q·kᵀ before the softmax (default 1/√d). */
  scale?: number
}

/**
 * Scaled dot-product attention, softmax(scale·q·kᵀ, masked)·v, over the last two dims:
 * q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] → [..., Lq, dv], batch dims broadcast.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) throw new ShapeError(`attention needs rank >= 2 q, k, v; got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`)
  const d = q.shape[q.rank - 1]!
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(`attention: q ${fmt(q.shape)} and k ${fmt(k.shape)} differ in their last dim`)
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) throw new ShapeError(`attention: k ${fmt(k.shape)} and v ${fmt(v.shape)} differ in their key count`)
  if (opts.mask && opts.mask.dtype !== 'i32' && opts.mask.dtype !== 'u32') throw new DTypeError(`attention mask must be i32 or u32 (nonzero = may attend), got ${opts.mask.dtype}`)
  const scale = opts.scale ?? 1 / Math.sqrt(d)
  const scores = mul(matmul(q, k, { transB: true }), scale)
  const probs = softmax(scores, { mask: opts.mask })
  return matmul(probs, v)
}
