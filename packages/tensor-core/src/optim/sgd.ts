import { sgdKernel } from '../kernels/optimizer.js'
import { runForeach } from '../ops/foreach.js'
import { Optimizer, type NamedParameters, type ParamUpdate } from './optimizer.js'
import type { LrSchedule } from './schedule.js'

export interface SgdOptions {
  lr?: number
  momentum?: number
  dampening?: number
  weightDecay?: number
  nesterov?: boolean
  schedule?: LrSchedule
}

/** torch.optim.SGD (momentum, dampening, nesterov, L2 weight decay), one fused update per parameter, many parameters per dispatch (foreach). */
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

  protected update(params: readonly ParamUpdate[], lr: number, gradScale: number): void {
    const momentum = this.momentum !== 0
    runForeach(
      sgdKernel(momentum, this.nesterov),
      params.map(({ name, param, grad }) => ({ inputs: [grad], outputs: momentum ? [param, this.slot(name, 'momentum_buffer', param)] : [param] })),
      {
        lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: this.weightDecay,
        first: this.stepCount === 1 ? 1 : 0,
        gradScale,
      },
    )
  }
}
