import { isGradEnabled, record } from '../autograd.js'
import { DTypeError, ShapeError } from '../errors.js'
import { col2imKernel, convWeightGradKernel, weightGradChunks, type ConvWeightGradParams } from '../kernels/conv.js'
import { convOutputSize, patchSize, pixelCount, type ConvGeometry } from '../kernels/im2col.js'
import type { Activation, MatmulParams } from '../kernels/matmul.js'
import { maxPoolBackwardKernel, maxPoolKernel, type MaxPoolParams } from '../kernels/pool.js'
import { fmt } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { broadcastTo } from './broadcast.js'
import { reshape } from './layout.js'
import { ACTIVATIONS, beforeFusedActivation, fusesActivation, matmul, runMatmul } from './matmul.js'
import { sum } from './reduce.js'

export interface Conv2dOptions {
  /** Per output channel: shape [cout]. */
  bias?: Tensor
  /** One number for both dims, or [h, w]. Default 1. */
  stride?: number | readonly [number, number]
  /** Zero padding on each side: one number or [h, w]. Default 0. */
  padding?: number | readonly [number, number]
  /** Applied after the bias, in the kernel when no gradient is recorded (ReLU always: see fusesActivation). */
  activation?: Activation
}

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]])

function geometryOf(x: Tensor, weight: Tensor, opts: Conv2dOptions): ConvGeometry {
  if (x.rank !== 4 || weight.rank !== 4) throw new ShapeError(`conv2d needs x [N, C, H, W] and weight [Cout, Cin, kh, kw], got ${fmt(x.shape)} and ${fmt(weight.shape)}`)
  const [batch, cin, h, w] = x.shape as [number, number, number, number]
  const [, wcin, kh, kw] = weight.shape as [number, number, number, number]
  if (wcin !== cin) throw new ShapeError(`conv2d: x has ${cin} channels but weight ${fmt(weight.shape)} expects ${wcin}`)
  const [strideH, strideW] = pair(opts.stride ?? 1)
  const [padH, padW] = pair(opts.padding ?? 0)
  if (![strideH, strideW].every((s) => Number.isInteger(s) && s >= 1)) throw new ShapeError(`conv2d stride must be a positive integer, got ${opts.stride}`)
  if (![padH, padW].every((p) => Number.isInteger(p) && p >= 0)) throw new ShapeError(`conv2d padding must be a non-negative integer, got ${opts.padding}`)
  const hout = convOutputSize(h, kh, strideH, padH)
  const wout = convOutputSize(w, kw, strideW, padW)
  if (hout < 1 || wout < 1) throw new ShapeError(`conv2d: kernel ${kh}×${kw} does not fit input ${h}×${w} with padding ${padH},${padW}`)
  return { batch, cin, h, w, kh, kw, strideH, strideW, padH, padW, hout, wout }
}

/** A 1×1, stride-1, unpadded convolution reads its input as the column matrix itself. */
function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0
}

/** Sums column-matrix gradients back onto the input positions they were read from. */
function fromColumns(dcol: Tensor, g: ConvGeometry): Tensor {
  if (isPointwise(g)) return reshape(dcol, [g.batch, g.cin, g.h, g.w])
  const dx = dcol.device.empty([g.batch, g.cin, g.h, g.w], dcol.dtype)
  if (dx.size > 0) dcol.device.backend.run(col2imKernel, { ...g, dtype: dcol.dtype }, [dcol.storage], [dx.storage])
  return dx
}

/**
 * Pixels (images × pixels per image) one workgroup of the weight-gradient kernel sums before
 * the chunks are added: long enough that the lanes' final reduction is a small part of the
 * work, short enough that a batch of large images still spreads over many workgroups.
 */
const WEIGHT_GRAD_PIXELS_PER_CHUNK = 2048

/** dL/dW [cout, cin, kh, kw] from the output gradient [N, cout, hout, wout] and the input x. */
function weightGradient(grad: Tensor, x: Tensor, g: ConvGeometry, shape: readonly number[]): Tensor {
  const cout = shape[0]!
  const params: ConvWeightGradParams = { ...g, dtype: x.dtype, cout, imagesPerChunk: Math.max(1, Math.floor(WEIGHT_GRAD_PIXELS_PER_CHUNK / pixelCount(g))) }
  const chunks = weightGradChunks(params)
  const partial = x.device.empty([chunks, cout, patchSize(g)], x.dtype)
  if (partial.size > 0) x.device.backend.run(convWeightGradKernel, params, [grad.storage, x.storage], [partial.storage])
  if (chunks === 1) return reshape(partial, shape)
  const dw = reshape(sum(partial, 0), shape)
  partial.dispose()
  return dw
}

/**
 * 2-D cross-correlation (PyTorch's conv2d) of NCHW `x` with `weight` [cout, cin, kh, kw]:
 * out[n] = W[cout, cin·kh·kw] · im2col(x[n]), computed by the matmul variant chosen for the
 * adapter with B gathered from x on the fly, so convolution inherits the matmul's speed.
 */
export function conv2d(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const { bias, activation = 'none' } = opts
  if (x.dtype !== weight.dtype || (x.dtype !== 'f32' && x.dtype !== 'f16')) throw new DTypeError(`conv2d needs two f32 (or f16) tensors, got ${x.dtype} and ${weight.dtype}`)
  const g = geometryOf(x, weight, opts)
  const cout = weight.shape[0]!
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new ShapeError(`conv2d bias must have shape [${cout}], got ${fmt(bias.shape)}`)
  const K = patchSize(g)
  const P = pixelCount(g)
  const fused = fusesActivation(activation, isGradEnabled() && (x.requiresGrad || weight.requiresGrad || !!bias?.requiresGrad))
  const out = x.device.empty([g.batch, cout, g.hout, g.wout], x.dtype)
  if (out.size > 0) {
    // Implicit GEMM: the matmul gathers patches of x itself (a pointwise conv reads x as B).
    const params: MatmulParams = {
      dtype: x.dtype,
      batch: g.batch,
      m: cout,
      n: P,
      k: K,
      transA: false,
      transB: false,
      aBatchStride: 0,
      bBatchStride: K * P,
      bias: bias ? 'row' : 'none',
      activation: fused ? activation : 'none',
      im2col: isPointwise(g) ? undefined : g,
    }
    runMatmul(x.device, params, weight.storage, x.storage, bias?.storage, out.storage)
  }

  record(out, 'conv2d', bias ? [x, weight, bias] : [x, weight], (gradOut) => {
    const grad = beforeFusedActivation(fused, out, gradOut)
    const g3 = reshape(grad, [g.batch, cout, P])
    const w2 = reshape(weight, [cout, K])
    const grads: (Tensor | null)[] = [null, null]
    // Column-sized intermediates (kh·kw times the input) are freed as soon as they are used.
    if (x.requiresGrad) {
      const dcol = matmul(w2, g3, { transA: true })
      grads[0] = fromColumns(dcol, g)
      dcol.dispose() // a pointwise conv's dx is a view of it and keeps the storage
    }
    if (weight.requiresGrad) grads[1] = weightGradient(grad, x, g, weight.shape)
    if (bias) grads.push(bias.requiresGrad ? sum(grad, [0, 2, 3]) : null)
    if (grad !== gradOut) grad.dispose()
    return grads
  })
  return activation !== 'none' && !fused ? ACTIVATIONS[activation](out) : out
}

export interface MaxPool2dOptions {
  kernel: number
  /** Default: the kernel size (non-overlapping windows). */
  stride?: number
}

/** Max over k×k windows of NCHW `x` (no padding); the gradient goes to the first maximum. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  const { kernel, stride = kernel } = opts
  if (x.rank !== 4) throw new ShapeError(`maxPool2d needs x [N, C, H, W], got ${fmt(x.shape)}`)
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new DTypeError(`maxPool2d needs an f32 (or f16) tensor, got ${x.dtype}`)
  if (![kernel, stride].every((v) => Number.isInteger(v) && v >= 1)) throw new ShapeError(`maxPool2d kernel and stride must be positive integers, got ${kernel}, ${stride}`)
  const [n, c, h, w] = x.shape as [number, number, number, number]
  if (kernel > h || kernel > w) throw new ShapeError(`maxPool2d: kernel ${kernel} does not fit input ${h}×${w}`)
  const p: MaxPoolParams = { dtype: x.dtype, planes: n * c, h, w, kernel, stride, hout: convOutputSize(h, kernel, stride, 0), wout: convOutputSize(w, kernel, stride, 0) }
  const y = x.device.empty([n, c, p.hout, p.wout], x.dtype)
  const idx = x.device.empty(y.shape, 'i32')
  if (y.size > 0) x.device.backend.run(maxPoolKernel, p, [x.storage], [y.storage, idx.storage])
  record(y, 'maxPool2d', [x], (g) => {
    const dx = x.device.empty(x.shape, g.dtype)
    if (dx.size > 0) x.device.backend.run(maxPoolBackwardKernel, p, [g.storage, idx.storage], [dx.storage])
    return [dx]
  })
  if (!y.requiresGrad) idx.dispose()
  return y
}

/** Nearest-neighbour upsampling of NCHW `x` by an integer factor; backward sums each block. */
export function upsampleNearest2d(x: Tensor, scale: number): Tensor {
  if (x.rank !== 4) throw new ShapeError(`upsampleNearest2d needs x [N, C, H, W], got ${fmt(x.shape)}`)
  if (!Number.isInteger(scale) || scale < 1) throw new ShapeError(`upsampleNearest2d scale must be a positive integer, got ${scale}`)
  const [n, c, h, w] = x.shape as [number, number, number, number]
  // A broadcast over two inserted unit dims is exactly the block copy; its autograd (sum
  // back to the unit dims) is exactly the block sum.
  const blocks = broadcastTo(reshape(x, [n, c, h, 1, w, 1]), [n, c, h, scale, w, scale])
  return reshape(blocks, [n, c, h * scale, w * scale])
}
