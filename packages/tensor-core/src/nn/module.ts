import { noGrad } from '../autograd.js'
import { TesseraError } from '../errors.js'
import { toHost } from '../host.js'
import type { HostTensor } from '../io/host-tensor.js'
import { keep } from '../scope.js'
import { fmt, shapesEqual } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { assign } from '../ops/inplace.js'

/** A state dict that does not fit a module: every problem is listed, nothing was loaded. */
export class StateDictError extends TesseraError {
  static override readonly code: string = 'state_dict'
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { name: string; expected: number[]; got: number[] }[],
  ) {
    const parts: string[] = []
    const list = (names: string[]) => names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length} in all)` : '')
    if (missing.length) parts.push(`missing: ${list(missing)}`)
    if (unexpected.length) parts.push(`unexpected: ${list(unexpected)}`)
    if (mismatched.length) parts.push(`shape mismatch: ${mismatched.slice(0, 20).map((m) => `${m.name} expected ${fmt(m.expected)} got ${fmt(m.got)}`).join('; ')}`)
    super(`state dict does not match the module (${parts.join(' | ')})`)
  }
}

export type StateDictSource = Record<string, HostTensor | Tensor> | Map<string, HostTensor | Tensor>

/**
 * A tree of parameters and submodules named like PyTorch's (`blocks.0.attn.weight`), so
 * state dicts exported from PyTorch load without renaming. Parameters and buffers are owned
 * by the module (kept out of `tidy` scopes) and freed by `dispose()`.
 */
export class Module {
  training = true
  private readonly ownParams = new Map<string, Tensor>()
  private readonly ownBuffers = new Map<string, Tensor>()
  private readonly children = new Map<string, Module>()

  registerParameter(name: string, t: Tensor): Tensor {
    this.checkName(name)
    t.requiresGrad = true
    this.ownParams.set(name, keep(t))
    return t
  }

  /** State that is saved and loaded but not trained (running statistics, masks). */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name)
    this.ownBuffers.set(name, keep(t))
    return t
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name)
    this.children.set(name, m)
    return m
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new TesseraError(`invalid parameter/module name "${name}": non-empty, without dots`)
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.children.has(name)) throw new TesseraError(`"${name}" is already registered`)
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]]
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name))
    return out
  }

  namedParameters(): [string, Tensor][] {
    return this.collect((m) => m.ownParams)
  }

  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.ownBuffers)
  }

  private collect(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = []
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) out.push([path ? `${path}.${name}` : name, t])
    }
    return out
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t)
  }

  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0)
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()])
  }

  /** The state dict read back to host memory, ready for safetensors. */
  async hostStateDict(): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {}
    for (const [name, t] of Object.entries(this.stateDict())) out[name] = await toHost(t)
    return out
  }

  /**
   * Copies values into the module's tensors. Checks everything first: with `strict`
   * (default) missing and unexpected names are errors; shape mismatches always are.
   */
  loadStateDict(source: StateDictSource, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true
    const entries = source instanceof Map ? source : new Map(Object.entries(source))
    const own = this.stateDict()
    const missing = Object.keys(own).filter((n) => !entries.has(n))
    const unexpected = [...entries.keys()].filter((n) => !(n in own))
    const mismatched: StateDictError['mismatched'] = []
    for (const [name, t] of Object.entries(own)) {
      const src = entries.get(name)
      if (src && !shapesEqual(src.shape, t.shape)) mismatched.push({ name, expected: [...t.shape], got: [...src.shape] })
    }
    if (mismatched.length || (strict && (missing.length || unexpected.length))) throw new StateDictError(missing, unexpected, mismatched)
    noGrad(() => {
      for (const [name, t] of Object.entries(own)) {
        const src = entries.get(name)
        if (src) assign(t, src)
      }
    })
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on
    return this
  }

  eval(): this {
    return this.train(false)
  }

  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose()
      p.grad = null
    }
  }

  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose()
  }
}

