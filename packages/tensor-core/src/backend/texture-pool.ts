import { ResourcePool } from './resource-pool.js'

/**
 * Scratch rgba32float textures (for kernels that bind textures), reused through a ResourcePool.
 * Sizes are rounded up (8 steps per power of two per side) so nearby shapes share textures;
 * kernels only touch the region they asked for.
 */
export class TexturePool extends ResourcePool<GPUTexture> {
  constructor(
    private readonly device: GPUDevice,
    /** Submits a parked resource may go unused before it is destroyed. */
    idleSubmits: number,
  ) {
    super(idleSubmits)
  }

  static round(texels: number): number {
    if (texels <= 16) return 16
    const step = 2 ** Math.ceil(Math.log2(texels)) / 8
    return Math.ceil(texels / step) * step
  }

  acquireTexture(width: number, height: number, max: number): GPUTexture {
    const w = Math.min(TexturePool.round(width), max)
    const h = Math.min(TexturePool.round(height), max)
    const create = () =>
      this.device.createTexture({ size: [w, h], format: 'rgba32float', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING })
    return this.acquire(`${w}x${h}`, w * h * 16, create)
  }
}
