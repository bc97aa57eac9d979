import { noGrad } from '../autograd.js'
import { TesseraError } from '../errors.js'
import type { HostTensor } from '../io/host-tensor.js'
import { toHost } from '../host.js'
import { assign } from '../ops/inplace.js'
import { zerosLike } from '../ops/creation.js'
import { keep } from '../scope.js'
import { shapesEqual, fmt } from '../shape.js'
import type { Tensor } from '../tensor.js'
import type { LrSchedule } from './schedule.js'

export type NamedParameters = readonly (readonly [string, Tensor])[] | readonly Tensor[]

export interface StepOptions {
  /** Gradients are divided by this before the update (loss scaling for f16 training). */
  gradScale?: number
}

export interface ParamUpdate {
  name: string
  param: Tensor
  grad: Tensor
}

/** Serializable optimizer state: per-parameter tensors plus JSON scalars. */
export interface OptimizerState {
  tensors: Record<string, HostTensor>
  state: { step: number; lr: number; kind: string }
}

/**
 * Shared optimizer machinery: named parameters (names key the saved state, so a checkpoint
 * maps back to the right tensors), per-parameter state tensors, the LR schedule and step count.
 */
export abstract class Optimizer {
  readonly params: [string, Tensor][]
  /** Updates performed so far. */
  stepCount = 0
  /** Base learning rate; the effective one is `lr · schedule(step)`. */
  lr: number
  schedule: LrSchedule | null
  protected readonly slots = new Map<string, Tensor>()

  constructor(params: NamedParameters, lr: number, schedule: LrSchedule | null = null) {
    this.params = params.map((p, i) => (Array.isArray(p) ? [p[0], p[1]] : [String(i), p as Tensor])) as [string, Tensor][]
    for (const [name, t] of this.params) {
      if (t.dtype !== 'f32') throw new TesseraError(`optimizer: parameter ${name} is ${t.dtype}; parameters must be f32 (keep an f32 master copy)`)
    }
    this.lr = lr
    this.schedule = schedule
  }

  /** The learning rate the next step will use. */
  currentLr(): number {
    return this.lr * (this.schedule ? this.schedule(this.stepCount) : 1)
  }

  step(opts: StepOptions = {}): void {
    const lr = this.currentLr()
    this.stepCount++
    const withGrads = this.params.flatMap(([name, param]) => (param.grad ? [{ name, param, grad: param.grad }] : []))
    noGrad(() => this.update(withGrads, lr, opts.gradScale ?? 1))
  }

  /** Updates every parameter that has a gradient (in foreach kernels: a few dispatches for all of them). */
  protected abstract update(params: readonly ParamUpdate[], lr: number, gradScale: number): void
  protected abstract readonly kind: string

  zeroGrad(): void {
    for (const [, p] of this.params) {
      p.grad?.dispose()
      p.grad = null
    }
  }

  /** A state tensor of a parameter (zeros on first use), owned by the optimizer. */
  protected slot(param: string, which: string, like: Tensor): Tensor {
    const key = `${param}.${which}`
    let t = this.slots.get(key)
    if (!t) {
      t = keep(zerosLike(like))
      this.slots.set(key, t)
    }
    return t
  }

  async stateDict(): Promise<OptimizerState> {
    const tensors: Record<string, HostTensor> = {}
    for (const [key, t] of this.slots) tensors[key] = await toHost(t)
    return { tensors, state: { step: this.stepCount, lr: this.lr, kind: this.kind } }
  }

  loadStateDict(saved: OptimizerState): void {
    if (saved.state.kind !== this.kind) throw new TesseraError(`optimizer state is for ${saved.state.kind}, not ${this.kind}`)
    const byName = new Map(this.params)
    for (const [key, h] of Object.entries(saved.tensors)) {
      const dot = key.lastIndexOf('.')
      const param = byName.get(key.slice(0, dot))
      if (!param) throw new TesseraError(`optimizer state names unknown parameter "${key.slice(0, dot)}"`)
      if (!shapesEqual(h.shape, param.shape)) throw new TesseraError(`optimizer state ${key} has shape ${fmt(h.shape)}, parameter has ${fmt(param.shape)}`)
    }
    for (const [key, h] of Object.entries(saved.tensors)) {
      const dot = key.lastIndexOf('.')
      assign(this.slot(key.slice(0, dot), key.slice(dot + 1), byName.get(key.slice(0, dot))!), h)
    }
    this.stepCount = saved.state.step
    this.lr = saved.state.lr
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose()
    this.slots.clear()
  }
}
