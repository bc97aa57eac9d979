import { record } from '../autograd.js'
import { DTypeError, InvalidArgumentError, ShapeError } from '../errors.js'
import { crossEntropyBackwardKernel, crossEntropyKernel, type CrossEntropyParams } from '../kernels/cross-entropy.js'
import { fmt, shapesEqual, sizeOf } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { oneHot } from './embedding.js'
import { add, cast, div, ne, square, sub } from './elementwise.js'
import { transpose } from './layout.js'
import { softmax } from './normalize.js'
import { randomGumbel, type RandomStreamOptions } from './random.js'
import { argmax, mean, sum } from './reduce.js'

export type Reduction = 'mean' | 'sum' | 'none'

export interface CrossEntropyOptions {
  /** Rows with this target contribute no loss and no gradient (default -100, as PyTorch). */
  ignoreIndex?: number
  /** ε: the target distribution is (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number
  /** 'mean' averages over rows whose target is not ignored, as PyTorch (default). */
  reduction?: Reduction
}

/**
 * torch.nn.functional.cross_entropy with class logits in the LAST dim: logits [..., C],
 * i32 targets [...]. One fused kernel computes each row's logsumexp and loss; the backward
 * is softmax − smoothed one-hot, scaled by each row's upstream gradient. An out-of-range
 * target is a ShapeError: at once on the CPU backend, at the next read on WebGPU.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = opts
  if (logits.dtype !== 'f32' && logits.dtype !== 'f16') throw new DTypeError(`crossEntropy needs f32 or f16 logits, got ${logits.dtype}`)
  if (targets.dtype !== 'i32') throw new DTypeError(`crossEntropy needs i32 targets, got ${targets.dtype}`)
  if (logits.rank < 1 || !shapesEqual(logits.shape.slice(0, -1), targets.shape)) {
    throw new ShapeError(`crossEntropy: targets ${fmt(targets.shape)} must be the logits' shape ${fmt(logits.shape)} without its last (class) dim`)
  }
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new InvalidArgumentError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`)
  if (!Number.isInteger(ignoreIndex)) throw new InvalidArgumentError(`crossEntropy: ignoreIndex must be an integer, got ${ignoreIndex}`)
  const n = logits.shape[logits.rank - 1]!
  const p: CrossEntropyParams = { dtype: logits.dtype, rows: sizeOf(targets.shape), n, ignoreIndex, smoothing: labelSmoothing }
  const device = logits.device
  const rowLoss = device.empty(targets.shape, 'f32')
  const lse = device.empty(targets.shape, 'f32')
  if (p.rows > 0 && n > 0) device.backend.run(crossEntropyKernel, p, [logits.storage, targets.storage], [rowLoss.storage, lse.storage])
  record(rowLoss, 'crossEntropy', [logits], (g) => {
    const dx = device.empty(logits.shape, logits.dtype)
    if (dx.size > 0) device.backend.run(crossEntropyBackwardKernel, p, [logits.storage, targets.storage, lse.storage, g.storage], [dx.storage])
    return [dx]
  })
  // lse is saved for backward; without a recorded node nothing needs it.
  if (!rowLoss.node) lse.dispose()
  if (reduction === 'none') return rowLoss
  if (reduction === 'sum') return sum(rowLoss)
  const counted = cast(ne(targets, ignoreIndex), 'f32')
  const count = sum(counted)
  counted.dispose()
  return div(sum(rowLoss), count)
}

export interface GumbelSoftmaxOptions extends RandomStreamOptions {
  /** Temperature τ > 0 (default 1). */
  tau?: number
  /** Forward the one-hot of the argmax; gradients are those of the soft sample. */
  hard?: boolean
  axis?: number
}

/**
 * torch.nn.functional.gumbel_softmax: softmax((logits + g) / τ) along `axis` with standard
 * Gumbel noise g from the device stream (or an explicit {seed, offset}). With `hard`, the
 * forward value is exactly one-hot (straight-through estimator).
 */
export function gumbelSoftmax(logits: Tensor, opts: GumbelSoftmaxOptions = {}): Tensor {
  const { tau = 1, hard = false, axis = -1 } = opts
  if (!(tau > 0)) throw new InvalidArgumentError(`gumbelSoftmax: tau must be > 0, got ${tau}`)
  const last = logits.rank - 1
  const moved = axis === -1 || axis === last ? logits : transpose(logits, axis, -1)
  const noise = randomGumbel(logits.device, moved.shape, opts)
  const perturbed = add(moved, noise)
  noise.dispose()
  const soft = softmax(div(perturbed, tau))
  let y = soft
  if (hard) {
    const picked = argmax(soft, -1)
    const oneHotCodes = oneHot(picked, moved.shape[last]!)
    picked.dispose()
    y = straightThrough(oneHotCodes, soft)
    oneHotCodes.dispose() // y shares its storage
  }
  return moved === logits ? y : transpose(y, axis, -1)
}

/**
 * The straight-through estimator: a tensor with the value of `forward` (no copy: it shares
 * the storage) whose gradient goes to `gradientTo` unchanged, as `forward + (gradientTo −
 * gradientTo.detach())` would give without its two elementwise passes.
 */
export function straightThrough(forward: Tensor, gradientTo: Tensor): Tensor {
  if (!shapesEqual(forward.shape, gradientTo.shape)) throw new ShapeError(`straightThrough: shapes ${fmt(forward.shape)} and ${fmt(gradientTo.shape)} differ`)
  const y = forward.detach()
  record(y, 'straightThrough', [gradientTo], (g) => [g])
  return y
}

/** Mean (or summed, or elementwise) squared error of same-shaped tensors. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  if (!shapesEqual(input.shape, target.shape)) throw new ShapeError(`mseLoss: shapes ${fmt(input.shape)} and ${fmt(target.shape)} differ`)
  const err = square(sub(input, target))
  const reduction = opts.reduction ?? 'mean'
  return reduction === 'none' ? err : reduction === 'sum' ? sum(err) : mean(err)
}

