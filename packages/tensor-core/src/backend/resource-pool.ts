import { TesseraError } from '../errors.js'
/** A GPU resource the pool can park and destroy: a buffer or a texture. */
interface Destroyable {
  destroy(): void
}

/**
 * Reuse of GPU resources (storage buffers, scratch textures) by size class. A released resource
 * first waits in `pending` until the work recorded against it has been submitted (`onSubmit`);
 * only then may a later `queue.writeBuffer`, which runs ahead of unsubmitted commands, or a
 * later dispatch safely overwrite it.
 *
 * A parked resource not reused within `idleSubmits` submits is destroyed. A training loop cycles
 * through its whole working set every step, in many size classes, so a cap on parked bytes
 * either holds it all or thrashes: model B (nHid 64, 2 blocks, 2,048 codes) at batch 32 peaked
 * at 911 MiB in use but cycled through 1,325 MiB of buffers, and the old 1 GiB cap destroyed and
 * re-created 55–83 of them (293 MiB, each new one zero-cleared by Dawn) every step; its scratch
 * textures peaked at 80 MiB in use yet thrashed a 256 MiB cap (57 new a step). Idle eviction
 * keeps what the loop keeps using and lets go of sizes it stopped asking for.
 */
export class ResourcePool<R extends Destroyable> {
  /** Parked resources by size class. */
  private free = new Map<string, Set<R>>()
  /** Parked resources and the submit they were parked at, oldest first: eviction order. */
  private parked = new Map<R, number>()
  private pending: R[] = []
  private readonly sizes = new Map<R, { key: string; bytes: number }>()
  private submits = 0
  inUseBytes = 0
  pooledBytes = 0
  pendingBytes = 0
  /** Resources in use. */
  inUse = 0

  constructor(private readonly idleSubmits: number) {}

  /**
   * A parked resource of size class `key` (`bytes` large), or a new one from `create`. Subclasses
   * name the size classes of their kind of resource (BufferPool.acquireBuffer, TexturePool.acquireTexture).
   */
  protected acquire(key: string, bytes: number, create: () => R): R {
    const list = this.free.get(key)
    const reused: R | undefined = list?.values().next().value
    this.inUseBytes += bytes
    this.inUse++
    if (reused) {
      list!.delete(reused)
      this.parked.delete(reused)
      this.pooledBytes -= bytes
      return reused
    }
    const created = create()
    this.sizes.set(created, { key, bytes })
    return created
  }

  release(resource: R): void {
    const { bytes } = this.sizeOf(resource)
    this.inUseBytes -= bytes
    this.inUse--
    this.pending.push(resource)
    this.pendingBytes += bytes
  }

  /** Called right after a submit: everything released before it may now be reused. */
  onSubmit(): void {
    this.submits++
    for (const resource of this.pending) {
      const { key, bytes } = this.sizeOf(resource)
      let list = this.free.get(key)
      if (!list) this.free.set(key, (list = new Set()))
      list.add(resource)
      this.parked.set(resource, this.submits)
      this.pooledBytes += bytes
    }
    this.pending = []
    this.pendingBytes = 0
    for (const [oldest, parkedAt] of this.parked) {
      if (this.submits - parkedAt < this.idleSubmits) break
      const { key, bytes } = this.sizeOf(oldest)
      this.parked.delete(oldest)
      this.free.get(key)!.delete(oldest)
      this.sizes.delete(oldest)
      this.pooledBytes -= bytes
      oldest.destroy()
    }
  }

  destroy(): void {
    for (const r of this.parked.keys()) r.destroy()
    for (const r of this.pending) r.destroy()
    this.free.clear()
    this.parked.clear()
    this.pending = []
    this.sizes.clear()
  }

  private sizeOf(resource: R): { key: string; bytes: number } {
    const size = this.sizes.get(resource)
    if (!size) throw new TesseraError('ResourcePool: released a resource it did not create', { code: 'internal' })
    return size
  }
}
