import { ResourcePool } from './resource-pool.js'

/** Storage buffers by size bucket, reused through a ResourcePool (see there for when). */
export class BufferPool extends ResourcePool<GPUBuffer> {
  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Submits a parked resource may go unused before it is destroyed. */
    idleSubmits: number,
    /** No bucket above this many bytes (a storage binding's limit); larger requests get their exact size. */
    private readonly maxBucket = Number.POSITIVE_INFINITY,
  ) {
    super(idleSubmits)
  }

  /** Buckets of 8 steps per power of two: at most 12.5% wasted, few distinct sizes. */
  static bucket(bytes: number): number {
    if (bytes <= 256) return 256
    const step = 2 ** Math.ceil(Math.log2(bytes)) / 8
    return Math.ceil(bytes / step) * step
  }

  acquireBuffer(bytes: number): GPUBuffer {
    const size = Math.min(BufferPool.bucket(bytes), Math.max(bytes, this.maxBucket))
    return this.acquire(String(size), size, () => this.device.createBuffer({ size, usage: this.usage }))
  }
}
