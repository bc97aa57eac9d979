import type { Storage } from './backend/backend.js'
import type { DType, HostArray, HostArrayFor } from './dtype.js'
import type { Device } from './device.js'
import { TensorStateError } from './errors.js'
import { keep, track } from './scope.js'
import { fmt, sizeOf, type Shape } from './shape.js'
import type { GradNode } from './autograd.js'
import { backward as runBackward } from './backward.js'

/** A storage shared by tensors that are views of the same data (reshape). */
export class StorageRef {
  refs = 1
  constructor(readonly storage: Storage) {}
}

let nextId = 0

/**
 * An n-dimensional array on a Device. Always contiguous, row-major. Data comes back only
 * through `await t.read()`. Free it with `dispose()` or inside `tidy()`.
 */
export class Tensor<D extends DType = DType> {
  readonly __isTensor = true
  readonly id = nextId++
  readonly size: number
  requiresGrad: boolean
  /** Accumulated gradient of a leaf that requires grad; owned by the tensor. */
  grad: Tensor | null = null
  /** How this tensor was computed, when autograd recorded it. */
  node: GradNode | null = null
  private ref: StorageRef | null

  constructor(
    readonly device: Device,
    readonly shape: Shape,
    readonly dtype: D,
    ref: StorageRef,
    requiresGrad = false,
  ) {
    this.size = sizeOf(shape)
    this.ref = ref
    this.requiresGrad = requiresGrad
    track(this)
  }

  get rank(): number {
    return this.shape.length
  }

  get disposed(): boolean {
    return this.ref === null
  }

  /** The backing storage; throws if the tensor was disposed. */
  get storage(): Storage {
    if (!this.ref) throw new TensorStateError(`tensor #${this.id} ${fmt(this.shape)} was used after dispose()`)
    return this.ref.storage
  }

  /** A new tensor sharing this one's storage (used by reshape: no copy). */
  shareStorage(shape: Shape): Tensor<D> {
    if (!this.ref) throw new TensorStateError(`tensor #${this.id} was used after dispose()`)
    this.ref.refs++
    return new Tensor(this.device, shape, this.dtype, this.ref)
  }

  async read(): Promise<HostArrayFor<D>> {
    return (await this.device.backend.read(this.storage)) as HostArrayFor<D>
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new TensorStateError(`item() needs a one-element tensor, got ${fmt(this.shape)}`)
    return (await this.read())[0]!
  }

  /** Back-propagates from this tensor (a scalar, or with an explicit upstream gradient). */
  backward(grad?: Tensor): void {
    runBackward(this, grad)
  }

  /** The same data, cut from the autograd graph (no copy). */
  detach(): Tensor<D> {
    return this.shareStorage(this.shape)
  }

  /** Keeps this tensor alive past the enclosing `tidy()` scopes. */
  keep(): this {
    return keep(this)
  }

  dispose(): void {
    const ref = this.ref
    if (!ref) return
    this.ref = null
    this.node = null
    if (--ref.refs === 0) this.device.backend.release(ref.storage)
    this.grad?.dispose()
    this.grad = null
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`
  }
}

export type AnyTensor = Tensor<DType>
export type { HostArray }
