import { TesseraError } from '../errors.js'
import { hostValues } from '../host.js'
import type { HostTensor } from '../io/host-tensor.js'
import { fmt } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { stridedCopy } from './layout.js'

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
  stridedCopy(src, [src.size], { strides: [1], offset: 0 }, target)
}
