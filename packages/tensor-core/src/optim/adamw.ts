import { adamwKernel } from '../kernels/optimizer.js'
import { runForeach } from '../ops/foreach.js'
import { Optimizer, type NamedParameters, type ParamUpdate } from './optimizer.js'
import type { LrSchedule } from './schedule.js'

export interface AdamWOptions {
  lr?: number
  betas?: [number, number]
  eps?: number
  /** Decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW; default 0.01. */
  weightDecay?: number
  schedule?: LrSchedule
}

/** torch.optim.AdamW: one fused update per parameter, many parameters per dispatch (foreach). */
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

  protected update(params: readonly ParamUpdate[], lr: number, gradScale: number): void {
    const t = this.stepCount
    runForeach(
      adamwKernel,
      params.map(({ name, param, grad }) => ({ inputs: [grad], outputs: [param, this.slot(name, 'exp_avg', param), this.slot(name, 'exp_avg_sq', param)] })),
      {
        lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: this.weightDecay,
        bc1: 1 - this.betas[0] ** t,
        bc2: 1 - this.betas[1] ** t,
        gradScale,
      },
    )
  }
}
