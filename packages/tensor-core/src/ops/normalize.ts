import { record } from '../autograd.js'
import { isFloat } from '../dtype.js'
import { ShapeError } from '../errors.js'
import { layerNormKernel } from '../kernels/layer-norm.js'
import { softmaxKernel, type MaskKind, type SoftmaxParams } from '../kernels/softmax.js'
import { broadcastShapes, broadcastStrides, coalesce, fmt, shapesEqual } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { exp, mul, sub, where } from './elementwise.js'
import { mean, sum } from './reduce.js'
import { reshape } from './layout.js'

export interface SoftmaxOptions {
  /** Broadcastable to x. f32: added to the logits; i32/u32: positions with 0 are excluded. */
  mask?: Tensor
}

function runSoftmax(x: Tensor, log: boolean, maskT: Tensor | undefined): Tensor {
  if (x.rank === 0) throw new ShapeError('softmax needs at least one dim')
  const n = x.shape[x.rank - 1]!
  const rows = x.size / Math.max(n, 1)
  const y = x.device.empty(x.shape, x.dtype)
  if (y.size === 0) return y
  let mask: MaskKind = 'none'
  let outerDims: number[] = [rows]
  let maskOuterStrides = [0]
  let maskInnerStride = 0
  if (maskT) {
    if (!shapesEqual(broadcastShapes(maskT.shape, x.shape), x.shape)) throw new ShapeError(`softmax mask ${fmt(maskT.shape)} does not broadcast to ${fmt(x.shape)}`)
    mask = maskT.dtype === 'f32' || maskT.dtype === 'f16' ? 'add' : 'bool'
    const strides = broadcastStrides(maskT.shape, x.shape)
    maskInnerStride = strides[strides.length - 1]!
    const outer = coalesce(x.shape.slice(0, -1), [strides.slice(0, -1)])
    outerDims = outer.dims
    maskOuterStrides = outer.strides[0]!
  }
  const params: SoftmaxParams = { dtype: x.dtype, rows, n, log, mask, maskDtype: maskT?.dtype ?? 'f32', outerDims, maskOuterStrides, maskInnerStride }
  x.device.backend.run(softmaxKernel, params, maskT ? [x.storage, maskT.storage] : [x.storage], [y.storage])
  return y
}

/** Softmax over the last dim, optionally masked (see SoftmaxOptions). */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  const y = runSoftmax(x, false, opts.mask)
  // dx = y ⊙ (g − Σ g⊙y); masked positions have y = 0 and get no gradient.
  record(y, 'softmax', [x], (g) => [mul(y, sub(g, sum(mul(g, y), -1, { keepDims: true })))])
  return y
}

/** log-softmax over the last dim, optionally masked. */
export function logSoftmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  const y = runSoftmax(x, true, opts.mask)
  const keep = opts.mask && !isFloat(opts.mask.dtype) ? opts.mask : undefined
  record(y, 'logSoftmax', [x], (g) => {
    // Positions a boolean mask excludes are constants: no gradient flows into or out of them.
    const gk = keep ? where(keep, g, 0) : g
    const p = exp(y)
    return [sub(gk, mul(p, sum(gk, -1, { keepDims: true })))]
  })
  return y
}

export interface LayerNormOptions {
  weight?: Tensor
  bias?: Tensor
  eps?: number
}

/** Layer normalisation over the last dim (torch.nn.functional.layer_norm with one normalised dim). */
export function layerNorm(x: Tensor, opts: LayerNormOptions = {}): Tensor {
  const { weight, bias, eps = 1e-5 } = opts
  const n = x.shape[x.rank - 1]!
  if (!!weight !== !!bias) throw new ShapeError('layerNorm takes weight and bias together')
  for (const p of [weight, bias]) {
    if (p && (p.rank !== 1 || p.shape[0] !== n)) throw new ShapeError(`layerNorm weight/bias must have shape [${n}], got ${fmt(p.shape)}`)
  }
  const rows = x.size / Math.max(n, 1)
  const y = x.device.empty(x.shape, x.dtype)
  const meanT = x.device.empty([...x.shape.slice(0, -1), 1], 'f32')
  const rstdT = x.device.empty([...x.shape.slice(0, -1), 1], 'f32')
  if (y.size > 0) {
    x.device.backend.run(
      layerNormKernel,
      { dtype: x.dtype, rows, n, eps, affine: !!weight },
      weight && bias ? [x.storage, weight.storage, bias.storage] : [x.storage],
      [y.storage, meanT.storage, rstdT.storage],
    )
  }
  const inputs = weight && bias ? [x, weight, bias] : [x]
  record(y, 'layerNorm', inputs, (g) => {
    const xhat = mul(sub(x, meanT), rstdT)
    const gx = weight ? mul(g, weight) : g
    const dx = mul(rstdT, sub(sub(gx, mean(gx, -1, { keepDims: true })), mul(xhat, mean(mul(gx, xhat), -1, { keepDims: true }))))
    if (!weight) return [dx]
    const flat = (t: Tensor) => reshape(t, [-1, n])
    return [x.requiresGrad ? dx : null, sum(flat(mul(g, xhat)), 0), sum(flat(g), 0)]
  })
  // Statistics saved for backward live in the enclosing tidy() scope, like every activation.
  if (!y.node) {
    meanT.dispose()
    rstdT.dispose()
  }
  return y
}
