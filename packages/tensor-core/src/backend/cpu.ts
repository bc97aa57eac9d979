import { allocHost, byteSize, roundToF16, type DType, type HostArray } from '../dtype.js'
import { DeviceLimitError } from '../errors.js'
import type { Kernel } from '../kernel.js'
import type { AdapterSummary, Backend, MemoryInfo, Storage } from './backend.js'
import { DEFAULT_PACK_CACHE_BYTES, DerivedCache } from './derived-cache.js'

export class CpuStorage implements Storage {
  version = 0
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly data: HostArray,
  ) {}
}

/**
 * The reference backend: every kernel's `cpu` function on host arrays. It is the oracle the
 * WGSL kernels are tested against and the fallback where no adapter exists. f16 tensors are
 * kept as f32 rounded to f16 after every write, which is what f16 storage on a GPU does.
 */
export class CpuBackend implements Backend {
  readonly adapter: AdapterSummary = {
    backend: 'cpu',
    vendor: 'tessera',
    architecture: 'cpu-reference',
    description: 'plain TypeScript reference backend',
    software: true,
    features: ['shader-f16'],
  }
  readonly supportsF16 = true
  private live = 0
  private liveBytes = 0
  /** Largest tensor in bytes (default unbounded here; `Device.create` gives 2 GiB unless told otherwise). */
  readonly maxTensorBytes: number

  /**
   * Packed operands are only made here when a test or a tuning runs a packed matmul variant on
   * this backend (its default matmul packs nothing); the cache works as on WebGPU.
   */
  readonly derived: DerivedCache
  readonly dispatchCounts = new Map<string, number>()

  constructor(opts: { maxTensorBytes?: number; packCacheBytes?: number } = {}) {
    this.maxTensorBytes = opts.maxTensorBytes ?? Number.POSITIVE_INFINITY
    this.derived = new DerivedCache((s) => this.release(s), opts.packCacheBytes ?? DEFAULT_PACK_CACHE_BYTES)
  }

  peakAllocBytes = 0

  alloc(dtype: DType, size: number): CpuStorage {
    const bytes = size * byteSize(dtype)
    this.peakAllocBytes = Math.max(this.peakAllocBytes, bytes)
    if (bytes > this.maxTensorBytes) {
      throw new DeviceLimitError(
        `a ${dtype} tensor of ${size} elements (${(bytes / 2 ** 20).toFixed(1)} MiB) is larger than the CPU backend's limit of ${(this.maxTensorBytes / 2 ** 20).toFixed(1)} MiB: run the work in smaller batches, or raise it with Device.create({ backend: 'cpu', maxTensorBytes })`,
      )
    }
    this.live++
    this.liveBytes += size * byteSize(dtype)
    return new CpuStorage(dtype, size, allocHost(dtype, size))
  }

  readonly maxTextureDimension2D = 1 << 16
  /** No binding limit here; 16 (lavapipe's and many GPUs' limit) groups foreach kernels as a GPU would. */
  readonly maxStorageBuffersPerKernel = 16

  /** Texels are four consecutive floats, rows of `width` texels. */
  allocTexture(width: number, height: number): CpuStorage {
    return this.alloc('f32', width * height * 4)
  }

  write(storage: Storage, data: HostArray): void {
    const s = storage as CpuStorage
    this.derived.written(s)
    s.data.set(data)
    if (s.dtype === 'f16') roundToF16(s.data as Float32Array)
  }

  async read(storage: Storage): Promise<HostArray> {
    return (storage as CpuStorage).data.slice()
  }

  run<P>(kernel: Kernel<P>, params: P, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    for (const o of outputs) this.derived.written(o)
    this.dispatchCounts.set(kernel.name, (this.dispatchCounts.get(kernel.name) ?? 0) + 1)
    const outs = outputs.map((o) => (o as CpuStorage).data)
    kernel.cpu(
      params,
      inputs.map((i) => (i as CpuStorage).data),
      outs,
    )
    outputs.forEach((o, i) => {
      if (o.dtype === 'f16') roundToF16(outs[i] as Float32Array)
    })
  }

  release(storage: Storage): void {
    this.derived.released(storage)
    this.live--
    this.liveBytes -= storage.size * byteSize(storage.dtype)
  }

  flush(): void {}

  async sync(): Promise<void> {}

  memory(): MemoryInfo {
    const { entries, bytes } = this.derived.stats()
    return { inUseBytes: this.liveBytes, pooledBytes: 0, pendingBytes: 0, storages: this.live, textureBytes: 0, derived: { entries, bytes } }
  }

  destroy(): void {
    this.derived.clear()
  }
}
