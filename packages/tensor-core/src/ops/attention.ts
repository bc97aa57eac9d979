import { record } from '../autograd.js'
import {
  attentionDkDvKernel,
  attentionDqKernel,
  attentionForwardKernel,
  attentionMaskPackKernel,
  maskWords,
  type AttentionParams,
} from '../kernels/attention.js'
import { DTypeError, ShapeError } from '../errors.js'
import { broadcastShapes, broadcastStrides, coalesce, fmt, sizeOf } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { sumToShape } from './broadcast.js'

export interface AttentionOptions {
  /**
   * Which keys each query may attend to: an i32/u32 tensor broadcastable to [..., Lq, Lk],
   * nonzero = allowed. A query with no allowed key gets zeros.
   */
  mask?: Tensor
  /**
   * Causal masking computed in the kernel, no tensor: key j is allowed for query i iff
   * j <= i + (Lk − Lq), so the last query sees every key (a KV-cache decode step with Lq = 1
   * attends the whole cache). Combines with `mask` (both must allow).
   */
  causal?: boolean
  /** Multiplies q·kᵀ before the softmax (default 1/√d). */
  scale?: number
}

/** Queries (or keys) per workgroup: a decode step's single query does not occupy 64 lanes. */
const rowsFor = (n: number) => (n <= 8 ? 8 : n <= 32 ? 32 : 64)

/**
 * Scaled dot-product attention, softmax(scale·q·kᵀ, masked)·v, over the last two dims:
 * q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] → [..., Lq, dv], batch dims broadcast.
 *
 * Fused (`kernels/attention.ts`): one kernel streams the keys with an online softmax and
 * saves each row's logsumexp; the backward recomputes the probabilities in two kernels
 * (dq per query, dk/dv per key). No [Lq, Lk] tensor is materialised; a keep-mask is packed
 * to bits first.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) throw new ShapeError(`attention needs rank >= 2 q, k, v; got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`)
  const [lq, d] = q.shape.slice(-2) as [number, number]
  const lk = k.shape[k.rank - 2]!
  const dv = v.shape[v.rank - 1]!
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(`attention: q ${fmt(q.shape)} and k ${fmt(k.shape)} differ in their last dim`)
  if (v.shape[v.rank - 2] !== lk) throw new ShapeError(`attention: k ${fmt(k.shape)} and v ${fmt(v.shape)} differ in their key count`)
  if (q.dtype !== k.dtype || q.dtype !== v.dtype || (q.dtype !== 'f32' && q.dtype !== 'f16')) {
    throw new DTypeError(`attention needs f32 (or f16) q, k, v of one dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`)
  }
  const mask = opts.mask
  if (mask && mask.dtype !== 'i32' && mask.dtype !== 'u32') throw new DTypeError(`attention mask must be i32 or u32 (nonzero = may attend), got ${mask.dtype}`)
  const maskShape = mask ? [...new Array<number>(Math.max(0, 2 - mask.rank)).fill(1), ...mask.shape] : [1, 1]
  const [mlq, mlk] = maskShape.slice(-2) as [number, number]
  if ((mlq !== 1 && mlq !== lq) || (mlk !== 1 && mlk !== lk)) throw new ShapeError(`attention mask ${fmt(mask!.shape)} does not broadcast to [..., ${lq}, ${lk}]`)
  const maskBatch = maskShape.slice(0, -2)
  let batchShape: number[] = []
  try {
    batchShape = [q, k, v].reduce((s, t) => broadcastShapes(s, t.shape.slice(0, -2)), maskBatch)
  } catch {
    throw new ShapeError(`attention: batch dims of q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}${mask ? `, mask ${fmt(mask.shape)}` : ''} do not broadcast`)
  }
  const device = q.device
  const out = device.empty([...batchShape, lq, dv], q.dtype)
  if (out.size === 0) return out

  const units = [q, k, v].map((t) => broadcastStrides(t.shape.slice(0, -2), batchShape))
  const merged = coalesce(batchShape, [...units, broadcastStrides(maskBatch, batchShape)])
  const params: AttentionParams = {
    dtype: q.dtype,
    lq,
    lk,
    d,
    dv,
    scale: opts.scale ?? 1 / Math.sqrt(d),
    causal: !!opts.causal,
    masked: !!mask,
    batchDims: merged.dims,
    qStrides: merged.strides[0]!,
    kStrides: merged.strides[1]!,
    vStrides: merged.strides[2]!,
    maskStrides: merged.strides[3]!,
    rows: rowsFor(lq),
  }
  // A keep-mask travels as bits: [mask batch..., Lq, ⌈Lk/32⌉] u32 (transposed for dk/dv).
  const packMask = (transposed: boolean): Tensor => {
    const [rows, bits] = transposed ? [lk, lq] : [lq, lk]
    const packed = device.empty([...maskBatch, rows, maskWords(bits)], 'u32')
    const [qStride, kStride] = [mlq === 1 ? 0 : mlk, mlk === 1 ? 0 : 1]
    const [rowStride, bitStride] = transposed ? [kStride, qStride] : [qStride, kStride]
    device.backend.run(attentionMaskPackKernel, { maskDtype: mask!.dtype, batch: sizeOf(maskBatch), rows, bits, batchStride: mlq * mlk, rowStride, bitStride }, [mask!.storage], [packed.storage])
    return packed
  }
  const packed = mask && packMask(false)
  const lse = device.empty([...batchShape, lq], 'f32')
  const maskIn = packed ? [packed.storage] : []
  device.backend.run(attentionForwardKernel, params, [q.storage, k.storage, v.storage, ...maskIn], [out.storage, lse.storage])

  record(out, 'attention', [q, k, v], (g) => {
    const dq = device.empty([...batchShape, lq, d], q.dtype)
    const delta = device.empty([...batchShape, lq], 'f32')
    device.backend.run(attentionDqKernel, params, [q.storage, k.storage, v.storage, out.storage, g.storage, lse.storage, ...maskIn], [dq.storage, delta.storage])
    const grads: (Tensor | null)[] = [q.requiresGrad ? sumToShape(dq, q.shape) : null, null, null]
    if (k.requiresGrad || v.requiresGrad) {
      const packedT = mask && packMask(true)
      const dk = device.empty([...batchShape, lk, d], q.dtype)
      const dvT = device.empty([...batchShape, lk, dv], q.dtype)
      const kv = { ...params, rows: rowsFor(lk) }
      device.backend.run(attentionDkDvKernel, kv, [q.storage, k.storage, v.storage, g.storage, lse.storage, delta.storage, ...(packedT ? [packedT.storage] : [])], [dk.storage, dvT.storage])
      packedT?.dispose()
      grads[1] = k.requiresGrad ? sumToShape(dk, k.shape) : null
      grads[2] = v.requiresGrad ? sumToShape(dvT, v.shape) : null
      for (const [t, gt] of [[dk, grads[1]], [dvT, grads[2]]] as const) if (t !== gt) t.dispose()
    }
    if (grads[0] !== dq) dq.dispose()
    delta.dispose()
    return grads
  })
  // The logsumexp and packed mask saved for backward live in the enclosing tidy() scope.
  if (!out.node) {
    lse.dispose()
    packed?.dispose()
  }
  return out
}

