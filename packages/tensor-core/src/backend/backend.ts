import type { DType, HostArray } from '../dtype.js'
import type { Kernel } from '../kernel.js'
import type { DerivedCache, DerivedCacheStats } from './derived-cache.js'

/** Device memory behind a tensor: a GPU buffer or a host array, never seen by users. */
export interface Storage {
  readonly dtype: DType
  /** Elements. */
  readonly size: number
  /**
   * Bumped each time the contents change (as a kernel output, or by a host write), through
   * `DerivedCache.written` only: what was derived from the storage is valid for one version.
   */
  version: number
}

export interface MemoryInfo {
  /** Bytes held by live storages. */
  inUseBytes: number
  /** Bytes parked in the buffer pool for reuse. */
  pooledBytes: number
  /** Bytes released but waiting for the next submit before they may be reused. */
  pendingBytes: number
  /** Live storages. */
  storages: number
  /** Bytes of scratch textures in use (WebGPU; the CPU backend's textures are storages, counted above). */
  textureBytes: number
  /** Derived storages kept for reuse (packed matmul operands), also counted above. */
  derived: Pick<DerivedCacheStats, 'entries' | 'bytes'>
}

export interface AdapterSummary {
  backend: 'webgpu' | 'cpu'
  vendor: string
  architecture: string
  description: string
  /** A CPU-emulated adapter (lavapipe, SwiftShader, WARP): kernel variants differ there. */
  software: boolean
  features: string[]
}

/** What the tensor core asks of an execution backend. */
export interface Backend {
  readonly adapter: AdapterSummary
  readonly supportsF16: boolean
  alloc(dtype: DType, size: number): Storage
  /**
   * Scratch rgba32float texture of at least width×height texels for kernels that bind
   * textures (see `BufferBinding.texture`); freed with `release` like any storage.
   */
  allocTexture(width: number, height: number): Storage
  /** Largest tensor, in bytes, that `alloc` accepts: what one kernel can bind (WebGPU's maxStorageBufferBindingSize). */
  readonly maxTensorBytes: number
  /**
   * Bytes of the largest `alloc` asked for (refused ones too) since this was last set to 0:
   * what `measurePeakBytes` reads (batching.ts).
   */
  peakAllocBytes: number
  /** Largest width or height `allocTexture` accepts. */
  readonly maxTextureDimension2D: number
  /** Storage buffers one kernel may bind (inputs and outputs together): foreach kernels group tensors by it. */
  readonly maxStorageBuffersPerKernel: number
  /**
   * Storages derived from others' contents (a weight's packed matmul operand), freed when their
   * source is written or released: `run` and `write` report every write to it.
   */
  readonly derived: DerivedCache
  /** Dispatches per kernel name since the backend was made (or the map was cleared). */
  readonly dispatchCounts: Map<string, number>
  /** Copies host data in; ordered before any later `run` that reads the storage. */
  write(storage: Storage, data: HostArray): void
  read(storage: Storage): Promise<HostArray>
  run<P>(kernel: Kernel<P>, params: P, inputs: readonly Storage[], outputs: readonly Storage[]): void
  /** Returns a storage to the pool, once work already recorded against it has been submitted. */
  release(storage: Storage): void
  /** Submits recorded work. */
  flush(): void
  /** Resolves when all submitted work has finished. */
  sync(): Promise<void>
  memory(): MemoryInfo
  destroy(): void
}
