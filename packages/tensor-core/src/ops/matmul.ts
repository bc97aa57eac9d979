import { isGradEnabled, record } from '../autograd.js'
import type { Storage } from '../backend/backend.js'
import type { Device } from '../device.js'
import { DTypeError, ShapeError } from '../errors.js'
import { canFoldBatch, type Activation, type MatmulParams } from '../kernels/matmul.js'
import { broadcastShapes, fmt, shapesEqual, sizeOf } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { broadcastTo, sumToShape } from './broadcast.js'
import { gelu, quickGelu, relu, reluBackward } from './elementwise.js'
import { sum } from './reduce.js'
import { reshape } from './layout.js'
import { selectMatmulVariant } from './matmul-select.js'
import type { MatmulRunOptions } from './matmul-variants.js'

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [..., k, m]. */
  transA?: boolean
  /** Use Bᵀ: B is stored [..., n, k]. */
  transB?: boolean
  /** Added to every row: shape [n]. */
  bias?: Tensor
  /** Applied after the bias, fused into the kernel when no gradient is recorded. */
  activation?: Activation
}

/** Unfused activations, for when autograd must see them as their own ops. */
export const ACTIVATIONS: Record<Exclude<Activation, 'none'>, (x: Tensor) => Tensor> = { relu, gelu: (x) => gelu(x), quickGelu }

/**
 * Whether a product applies its activation in its own kernel: always when no gradient is
 * recorded; under autograd only ReLU, whose backward needs nothing but the product's output
 * (g where y > 0), so the pre-activation is never stored and no separate dispatch runs.
 */
export const fusesActivation = (activation: Activation, recording: boolean): boolean => activation !== 'none' && (!recording || activation === 'relu')

/**
 * The gradient reaching a product's own output, from the gradient of what it returned: through
 * the fused ReLU when one ran in its kernel (`fused`, under autograd), else unchanged.
 */
export const beforeFusedActivation = (fused: boolean, y: Tensor, g: Tensor): Tensor => (fused ? reluBackward(y, g) : g)

/**
 * Runs the matmul variant chosen for this adapter; no shape checks, no autograd. A batch
 * that shares A runs folded into the columns (`MatmulParams.foldBatch`): a convolution's
 * per-image products then fill tiles even where an image has few pixels.
 */
export function runMatmul(device: Device, params: MatmulParams, a: Storage, b: Storage, bias: Storage | undefined, out: Storage, opts?: MatmulRunOptions): void {
  const p = canFoldBatch(params) ? { ...params, foldBatch: true } : params
  selectMatmulVariant(device, p).run(device.backend, p, a, b, bias, out, opts)
}

/**
 * Whether B's packed form is worth keeping between calls: B is a parameter (a leaf that requires
 * grad: what `Module.registerParameter` makes), the one operand that outlives a call and is
 * multiplied again unchanged — every decode step multiplies the same weights. Activations,
 * gradients and input batches are used once; keeping their packs would only hold memory (an
 * image's im2col pack is kh·kw times the image) until they are freed.
 */
export const reusesB = (b: Tensor): boolean => b.requiresGrad && b.node === null

/**
 * Batched matrix product `[..., m, k] · [..., k, n] → [..., m, n]` with NumPy broadcasting of
 * the batch dims (a rank-2 operand is shared by every batch).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, bias, activation = 'none' } = opts
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`matmul needs rank >= 2 operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`)
  if (a.dtype !== b.dtype || (a.dtype !== 'f32' && a.dtype !== 'f16')) throw new DTypeError(`matmul needs two f32 (or f16) tensors, got ${a.dtype} and ${b.dtype}`)
  const [ar, ac] = a.shape.slice(-2) as [number, number]
  const [br, bc] = b.shape.slice(-2) as [number, number]
  const [m, k] = transA ? [ac, ar] : [ar, ac]
  const [k2, n] = transB ? [bc, br] : [br, bc]
  if (k !== k2) throw new ShapeError(`matmul: inner dims differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${k2})`)
  if (bias && (bias.rank !== 1 || bias.shape[0] !== n)) throw new ShapeError(`matmul bias must have shape [${n}], got ${fmt(bias.shape)}`)

  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))
  const batch = sizeOf(batchShape)
  const fused = fusesActivation(activation, isGradEnabled() && (a.requiresGrad || b.requiresGrad || !!bias?.requiresGrad))
  // Operands whose batch dims neither match the result's nor are all 1 are materialised.
  const [aa, bb] = [a, b].map((t) => {
    const tb = t.shape.slice(0, -2)
    return sizeOf(tb) === 1 || shapesEqual(tb, batchShape) ? t : broadcastTo(t, [...batchShape, ...t.shape.slice(-2)])
  }) as [Tensor, Tensor]
  const out = a.device.empty([...batchShape, m, n], a.dtype)
  const params: MatmulParams = {
    dtype: a.dtype,
    batch,
    m,
    n,
    k,
    transA,
    transB,
    aBatchStride: sizeOf(aa.shape) === m * k ? 0 : m * k,
    bBatchStride: sizeOf(bb.shape) === k * n ? 0 : k * n,
    bias: bias ? 'col' : 'none',
    activation: fused ? activation : 'none',
  }
  if (out.size > 0) runMatmul(a.device, params, aa.storage, bb.storage, bias?.storage, out.storage, { reuseB: bb === b && reusesB(b) })
  if (aa !== a) aa.dispose()
  if (bb !== b) bb.dispose()

  record(out, 'matmul', bias ? [a, b, bias] : [a, b], (gOut) => {
    const g = beforeFusedActivation(fused, out, gOut)
    const grads: (Tensor | null)[] = [null, null]
    if (a.requiresGrad) {
      const gA = transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB })
      grads[0] = sumToShape(gA, a.shape)
    }
    if (b.requiresGrad) {
      const gB = transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA })
      grads[1] = sumToShape(gB, b.shape)
    }
    if (bias) grads.push(bias.requiresGrad ? reshape(sum(reshape(g, [-1, n]), 0), [n]) : null)
    if (g !== gOut) g.dispose()
    return grads
  })
  return activation !== 'none' && !fused ? ACTIVATIONS[activation](out) : out
}

/** y = x·Wᵀ + b with W stored [out, in], as torch.nn.Linear. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor, activation: Activation = 'none'): Tensor {
  if (x.rank <= 2 || weight.rank !== 2) return matmul(x, weight, { transB: true, bias, activation })
  // Leading dims fold into the rows: one [rows, in]·[in, out] product instead of a batch of small
  // ones sharing the weight, and in backward one weight-gradient product over every row instead
  // of a product per batch entry followed by a sum (a transformer step on lavapipe: 2.4× faster).
  const y = matmul(reshape(x, [-1, x.shape[x.rank - 1]!]), weight, { transB: true, bias, activation })
  return reshape(y, [...x.shape.slice(0, -1), weight.shape[0]!])
}

