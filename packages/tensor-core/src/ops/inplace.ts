import { TesseraError } from '../errors.js'
import { hostValues } from '../host.js'
import type { HostTensor } from '../io/host-tensor.js'
import { computeTypeOf, elementwiseKernel } from '../kernels/elementwise.js'
import { fmt } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { FORMULAS } from './elementwise.js'

/** Overwrites a tensor's contents in place (same shape) from host data or another tensor. */
export function assign(target: Tensor, src: HostTensor | Tensor): void {
  const backend = target.device.backend
  if ('data' in src) {
    backend.write(target.storage, hostValues(src))
    return
  }
  if (src.device !== target.device) throw new TesseraError('assign: tensors live on different devices')
  copyInto(target, src)
}


/** Copies `src` into `target`'s storage (same size), converting dtype if needed. */
export function copyInto(target: Tensor, src: Tensor): void {
  if (src.size !== target.size) throw new TesseraError(`copyInto: ${fmt(src.shape)} into ${fmt(target.shape)}`)
  if (src.size === 0) return
  target.device.backend.run(
    elementwiseKernel,
    {
      op: FORMULAS.identity,
      kinds: ['t'],
      inDtypes: [src.dtype],
      compute: computeTypeOf(target.dtype),
      outDtype: target.dtype,
      shape: [src.size],
      strides: [[1]],
      offsets: [0],
      scalars: [],
      size: src.size,
    },
    [src.storage],
    [target.storage],
  )
}
