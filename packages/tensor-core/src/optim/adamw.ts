import { adamwKernel } from '../kernels/optimizer.js'
import type { Tensor } from '../tensor.js'
import { Optimizer, type NamedParameters } from './optimizer.js'
import type { LrSchedule } from './schedule.js'

export interface AdamWOptions {
  lr?: number
  betas?: [number, number]
  eps?: number
  /** Decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW; default 0.01. */
  weightDecay?: number
  schedule?: LrSchedule
}

/** torch.optim.AdamW, one fused kernel per parameter. */
export class AdamW extends Optimizer {
  protected readonly kind = 'adamw'
  readonly betas: [number, number]
  readonly eps: number
  readonly weightDecay: number

  constructor(params: NamedParameters, opts: AdamWOptions = {}) {
    super(params, opts.lr ?? 1e-3, opts.schedule ?? null)
    this.betas = opts.betas ?? [0.9, 0.999]
    this.eps = opts.eps ?? 1e-8
    this.weightDecay = opts.weightDecay ?? 0.01
  }

  protected update(name: string, p: Tensor, grad: Tensor, lr: number, gradScale: number): void {
    const m = this.slot(name, 'exp_avg', p)
    const v = this.slot(name, 'exp_avg_sq', p)
    const t = this.stepCount
    p.device.backend.run(
      adamwKernel,
      {
        size: p.size,
        lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: this.weightDecay,
        biasCorrection1: 1 - this.betas[0] ** t,
        biasCorrection2: 1 - this.betas[1] ** t,
        gradScale,
      },
      [grad.storage],
      [p.storage, m.storage, v.storage],
    )
  }
}
