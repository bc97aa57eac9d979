/**
 * Size-bucketed reuse of GPU buffers. A released buffer first waits in `pending` until the
 * work recorded against it has been submitted (`onSubmit`); only then may a later
 * `queue.writeBuffer`, which runs ahead of unsubmitted commands, safely overwrite it.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>()
  private pending: GPUBuffer[] = []
  inUseBytes = 0
  pooledBytes = 0
  pendingBytes = 0
  storages = 0

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Above this many pooled bytes, released buffers are destroyed instead of kept. */
    private readonly maxPooledBytes: number,
  ) {}

  /** Buckets of 8 steps per power of two: at most 12.5% wasted, few distinct sizes. */
  static bucket(bytes: number): number {
    if (bytes <= 256) return 256
    const step = 2 ** Math.ceil(Math.log2(bytes)) / 8
    return Math.ceil(bytes / step) * step
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.bucket(bytes)
    const list = this.free.get(size)
    const reused = list?.pop()
    this.inUseBytes += size
    this.storages++
    if (reused) {
      this.pooledBytes -= size
      return reused
    }
    return this.device.createBuffer({ size, usage: this.usage })
  }

  release(buffer: GPUBuffer): void {
    this.inUseBytes -= buffer.size
    this.storages--
    this.pending.push(buffer)
    this.pendingBytes += buffer.size
  }

  /** Called right after a submit: everything released before it may now be reused. */
  onSubmit(): void {
    for (const buffer of this.pending) {
      if (this.pooledBytes + buffer.size > this.maxPooledBytes) {
        buffer.destroy()
        continue
      }
      let list = this.free.get(buffer.size)
      if (!list) this.free.set(buffer.size, (list = []))
      list.push(buffer)
      this.pooledBytes += buffer.size
    }
    this.pending = []
    this.pendingBytes = 0
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy()
    for (const b of this.pending) b.destroy()
    this.free.clear()
    this.pending = []
  }
}
