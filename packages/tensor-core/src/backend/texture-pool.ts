/**
 * Reuse of scratch rgba32float textures (for kernels that bind textures), with the buffer
 * pool's rule: a released texture waits until the submit that follows its last use before a
 * later dispatch may overwrite it. Sizes are rounded up (8 steps per power of two per side)
 * so nearby shapes share textures; kernels only touch the region they asked for.
 */
export class TexturePool {
  private free = new Map<string, GPUTexture[]>()
  private pending: GPUTexture[] = []
  private pooledBytes = 0

  constructor(
    private readonly device: GPUDevice,
    /** Above this many parked bytes, released textures are destroyed instead of kept. */
    private readonly maxPooledBytes: number,
  ) {}

  private static bytes(t: GPUTexture): number {
    return t.width * t.height * 16
  }

  static round(texels: number): number {
    if (texels <= 16) return 16
    const step = 2 ** Math.ceil(Math.log2(texels)) / 8
    return Math.ceil(texels / step) * step
  }

  acquire(width: number, height: number, max: number): GPUTexture {
    const w = Math.min(TexturePool.round(width), max)
    const h = Math.min(TexturePool.round(height), max)
    const reused = this.free.get(`${w}x${h}`)?.pop()
    if (reused) {
      this.pooledBytes -= TexturePool.bytes(reused)
      return reused
    }
    return this.device.createTexture({
      size: [w, h],
      format: 'rgba32float',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING,
    })
  }

  release(texture: GPUTexture): void {
    this.pending.push(texture)
  }

  onSubmit(): void {
    for (const t of this.pending) {
      if (this.pooledBytes + TexturePool.bytes(t) > this.maxPooledBytes) {
        t.destroy()
        continue
      }
      this.pooledBytes += TexturePool.bytes(t)
      const key = `${t.width}x${t.height}`
      let list = this.free.get(key)
      if (!list) this.free.set(key, (list = []))
      list.push(t)
    }
    this.pending = []
  }

  destroy(): void {
    for (const list of this.free.values()) for (const t of list) t.destroy()
    for (const t of this.pending) t.destroy()
    this.free.clear()
    this.pending = []
  }
}
