import type { AdapterSummary, Backend, MemoryInfo } from './backend/backend.js'
import type { DerivedCacheStats } from './backend/derived-cache.js'
import { CpuBackend } from './backend/cpu.js'
import { WebGpuBackend, type WebGpuOptions } from './backend/webgpu.js'
import { checkDType, dtypeOfArray, type DType, type HostArray } from './dtype.js'
import { AdapterError, DTypeError, InvalidArgumentError, ShapeError } from './errors.js'
import { checkShape, fmt, sizeOf, type Shape } from './shape.js'
import { StorageRef, Tensor } from './tensor.js'
import { RandomGenerator } from './random-state.js'

export type BackendChoice = 'auto' | 'webgpu' | 'cpu'

/** The backend names `Device.create` takes. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'cpu']

/** The CPU backend's default largest tensor: 2 GiB, as many GPUs' maxStorageBufferBindingSize. */
export const DEFAULT_CPU_MAX_TENSOR_BYTES = 2 ** 31

export interface DeviceOptions extends WebGpuOptions {
  /** 'auto' prefers WebGPU and falls back to the CPU reference where no adapter exists. */
  backend?: BackendChoice
  /** Seed of the device's random generator (default 0). */
  seed?: number
  /**
   * Largest tensor in bytes; a larger allocation throws DeviceLimitError before any memory is
   * taken. CPU backend: default 2 GiB (`Infinity` lifts it). WebGPU: lowers the adapter's
   * binding limit (it cannot raise it).
   */
  maxTensorBytes?: number
  /**
   * Bytes of packed matmul weights kept between calls (default 256 MiB; 0 packs on every call).
   * Software adapters (lavapipe) repack B into a texture per matmul; a parameter's pack is kept
   * until the parameter is written (optimizer step, `assign`, `loadStateDict`) or disposed.
   */
  packCacheBytes?: number
}

/** Dispatch counts and the packed-operand cache's activity (`Device.kernelStats`). */
export interface KernelStats {
  /** Dispatches per kernel name (e.g. `matmul.packB.texture`) since the device was made or `resetKernelStats`. */
  dispatches: Record<string, number>
  packCache: DerivedCacheStats
}

export interface TensorOptions {
  /** Storage dtype; defaults to the array's (Float32Array → f32, Int32Array → i32, ...). */
  dtype?: DType
  requiresGrad?: boolean
}

function hostArrayType(dtype: DType) {
  return dtype === 'i32' ? Int32Array : dtype === 'u32' ? Uint32Array : Float32Array
}

/** Where tensors live and kernels run: a WebGPU device or the CPU reference backend. */
export class Device {
  /** Counter-based random stream shared by the random ops of this device. */
  readonly random: RandomGenerator

  private constructor(
    readonly backend: Backend,
    seed: number,
  ) {
    this.random = new RandomGenerator(seed)
  }

  static async create(opts: DeviceOptions = {}): Promise<Device> {
    const choice = opts.backend ?? 'auto'
    if (!BACKEND_CHOICES.includes(choice)) {
      throw new InvalidArgumentError(`unknown backend ${JSON.stringify(choice)}: choose one of ${BACKEND_CHOICES.map((b) => `'${b}'`).join(', ')}`)
    }
    const { maxTensorBytes, packCacheBytes } = opts
    if (maxTensorBytes !== undefined && !(maxTensorBytes > 0)) throw new InvalidArgumentError(`maxTensorBytes must be a positive number of bytes, got ${maxTensorBytes}`)
    if (packCacheBytes !== undefined && !(packCacheBytes >= 0)) throw new InvalidArgumentError(`packCacheBytes must be a number of bytes >= 0, got ${packCacheBytes}`)
    const cpu = () => new Device(new CpuBackend({ maxTensorBytes: maxTensorBytes ?? DEFAULT_CPU_MAX_TENSOR_BYTES, packCacheBytes: opts.packCacheBytes }), opts.seed ?? 0)
    if (choice === 'cpu') return cpu()
    try {
      return new Device(await WebGpuBackend.create(opts), opts.seed ?? 0)
    } catch (err) {
      if (choice === 'auto' && err instanceof AdapterError) return cpu()
      throw err
    }
  }

  get kind(): 'webgpu' | 'cpu' {
    return this.backend.adapter.backend
  }

  get adapter(): AdapterSummary {
    return this.backend.adapter
  }

  /**
   * Largest tensor in bytes this device holds: on WebGPU what one kernel can bind
   * (maxStorageBufferBindingSize, often 128 MiB or 2 GiB); on the CPU backend 2 GiB unless
   * `maxTensorBytes` said otherwise. Larger tensors throw DeviceLimitError, so models split big
   * batches by it.
   */
  get maxTensorBytes(): number {
    return this.backend.maxTensorBytes
  }

  /**
   * A tensor on fresh, uninitialised storage (pooled memory holds stale values): what ops
   * write their results into. Use `ops.zeros` / `ops.full` for defined contents.
   */
  empty<D extends DType>(shape: Shape, dtype: D): Tensor<D> {
    checkShape(shape)
    checkDType(dtype)
    return new Tensor(this, [...shape], dtype, new StorageRef(this.backend.alloc(dtype, sizeOf(shape))))
  }

  /** A tensor holding a copy of `data`. */
  tensor(data: ArrayLike<number>, shape: Shape, opts: TensorOptions = {}): Tensor {
    checkShape(shape)
    if (data.length !== sizeOf(shape)) throw new ShapeError(`${data.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`)
    if (opts.dtype !== undefined) checkDType(opts.dtype)
    const dtype = opts.dtype ?? dtypeOfArray(data)
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) throw new DTypeError('a BigInt64Array has no tensor dtype: pass an Int32Array or Uint32Array')
    const t = this.empty(shape, dtype)
    const host: HostArray =
      data instanceof hostArrayType(dtype)
        ? (data as HostArray)
        : dtype === 'i32'
          ? Int32Array.from(data)
          : dtype === 'u32'
            ? Uint32Array.from(data)
            : Float32Array.from(data)
    this.backend.write(t.storage, host)
    t.requiresGrad = opts.requiresGrad ?? false
    return t
  }

  memory(): MemoryInfo {
    return this.backend.memory()
  }

  /** How often each kernel ran, and how the packed-operand cache fared (hits, packs, invalidations). */
  kernelStats(): KernelStats {
    return { dispatches: Object.fromEntries(this.backend.dispatchCounts), packCache: this.backend.derived.stats() }
  }

  resetKernelStats(): void {
    this.backend.dispatchCounts.clear()
    this.backend.derived.resetStats()
  }

  /** The packed-operand cache's byte cap (see DeviceOptions.packCacheBytes); setting 0 frees every pack. */
  get packCacheBytes(): number {
    return this.backend.derived.capBytes
  }

  set packCacheBytes(bytes: number) {
    if (!(bytes >= 0)) throw new InvalidArgumentError(`packCacheBytes must be a number of bytes >= 0, got ${bytes}`)
    this.backend.derived.capBytes = bytes
  }

  /** Submits recorded work without waiting for it. */
  flush(): void {
    this.backend.flush()
  }

  /** Waits until all submitted work has finished (for timing). */
  sync(): Promise<void> {
    return this.backend.sync()
  }

  destroy(): void {
    this.backend.destroy()
  }
}
