import type { DType } from '../dtype.js'
import { DTypeError, ShapeError, TensorStateError } from '../errors.js'
import { computeTypeOf, elementwiseKernel, type ComputeType, type ElementwiseOp, type ElementwiseParams } from '../kernels/elementwise.js'
import { broadcastShapes, broadcastStrides, coalesce, fmt, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'

export type Operand = Tensor | number

/** The dtype elementwise results take: the first tensor operand's. */
function resultDtype(operands: readonly Operand[]): DType {
  const t = operands.find((o): o is Tensor => typeof o !== 'number')
  if (!t) throw new TensorStateError('an elementwise op needs at least one tensor operand')
  return t.dtype
}

/**
 * Runs a formula over tensors and scalars with NumPy broadcasting. Dims that every operand
 * walks contiguously are merged first, so most calls compile the rank-1 variant.
 */
export function elementwise(
  op: ElementwiseOp,
  operands: readonly Operand[],
  opts: { outDtype?: DType; compute?: ComputeType; shape?: Shape } = {},
): Tensor {
  const tensors = operands.filter((o): o is Tensor => typeof o !== 'number')
  const device = tensors[0]!.device
  for (const t of tensors) {
    if (t.device !== device) throw new TensorStateError('tensors from different devices cannot be combined')
  }
  let shape: number[] = [...(opts.shape ?? [])]
  for (const t of tensors) shape = broadcastShapes(shape, t.shape)
  if (opts.shape && shape.length !== opts.shape.length) throw new ShapeError(`cannot broadcast to ${fmt(opts.shape)}: an operand has more dims`)
  const dtype = resultDtype(operands)
  const outDtype = opts.outDtype ?? dtype
  const compute = opts.compute ?? computeTypeOf(dtype)
  if (outDtype === 'f16' && !device.backend.supportsF16) throw new DTypeError('this adapter has no shader-f16')
  const out = device.empty(shape, outDtype)
  if (out.size === 0) return out
  const { dims, strides } = coalesce(shape, tensors.map((t) => broadcastStrides(t.shape, shape)))
  const params: ElementwiseParams = {
    op,
    kinds: operands.map((o) => (typeof o === 'number' ? 's' : 't')),
    inDtypes: tensors.map((t) => t.dtype),
    compute,
    outDtype,
    shape: dims,
    strides,
    offsets: strides.map(() => 0),
    scalars: operands.filter((o): o is number => typeof o === 'number'),
    size: out.size,
  }
  device.backend.run(
    elementwiseKernel,
    params,
    tensors.map((t) => t.storage),
    [out.storage],
  )
  return out
}
