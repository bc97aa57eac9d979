import { sgdKernel } from '../kernels/optimizer.js'
import type { Tensor } from '../tensor.js'
import { Optimizer, type NamedParameters } from './optimizer.js'
import type { LrSchedule } from './schedule.js'

export interface SgdOptions {
  lr?: number
  momentum?: number
  dampening?: number
  weightDecay?: number
  nesterov?: boolean
  schedule?: LrSchedule
}

/** torch.optim.SGD (momentum, dampening, nesterov, L2 weight decay), one fused kernel per parameter. */
export class SGD extends Optimizer {
  protected readonly kind = 'sgd'
  readonly momentum: number
  readonly dampening: number
  readonly weightDecay: number
  readonly nesterov: boolean

  constructor(params: NamedParameters, opts: SgdOptions = {}) {
    super(params, opts.lr ?? 1e-2, opts.schedule ?? null)
    this.momentum = opts.momentum ?? 0
    this.dampening = opts.dampening ?? 0
    this.weightDecay = opts.weightDecay ?? 0
    this.nesterov = opts.nesterov ?? false
  }

  protected update(name: string, p: Tensor, grad: Tensor, lr: number, gradScale: number): void {
    const buf = this.slot(name, 'momentum_buffer', p)
    p.device.backend.run(
      sgdKernel,
      {
        size: p.size,
        lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: this.weightDecay,
        nesterov: this.nesterov,
        firstStep: this.stepCount === 1,
        gradScale,
      },
      [grad.storage],
      [p.storage, buf.storage],
    )
  }
}
