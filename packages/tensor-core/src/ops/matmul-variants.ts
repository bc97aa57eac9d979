import type { Backend, Storage } from '../backend/backend.js'
import { packBKernel, packedBKey, packedImageSize, packedLayout, packedMatmulKernel, type PackedParams, type PackedShape } from '../kernels/matmul-packed.js'
import { tiledMatmulKernel, type MatmulParams, type TiledShape } from '../kernels/matmul.js'

/**
 * One way to compute a matmul: a generator's kernel(s) for one set of tile sizes, plus how
 * to launch them. Every variant computes exactly `matmulCpu`, for any params it `fits`.
 */
export interface MatmulVariant {
  readonly name: string
  /** Whether this variant can run `p` on `backend` (texture size limits). */
  fits(backend: Backend, p: MatmulParams): boolean
  run(backend: Backend, p: MatmulParams, a: Storage, b: Storage, bias: Storage | undefined, out: Storage, opts?: MatmulRunOptions): void
}

export interface MatmulRunOptions {
  /**
   * B is a weight that later products multiply unchanged (a parameter): a variant that
   * repacks B may keep the pack in `backend.derived` and reuse it until B is written or freed.
   */
  reuseB?: boolean
}

export function tiledVariant(name: string, shape: TiledShape): MatmulVariant {
  const kernel = tiledMatmulKernel(shape)
  return {
    name,
    fits: () => true,
    // Reads B where it lies: nothing to reuse.
    run: (backend, p, a, b, bias, out) => backend.run(kernel, p, [a, b, ...(bias ? [bias] : [])], [out]),
  }
}

/**
 * Packs op(B) into pooled scratch (a texture or a vec4 buffer), then runs the packed kernel.
 * With `reuseB` the pack is looked up in, and offered to, `backend.derived` (keyed by B's
 * storage, its version and `packedBKey`): a weight is packed once per version, not per call.
 * `maxPanelRows` caps the rows of one texture panel below the adapter's limit (tests use it
 * to exercise panel folding on small problems).
 */
export function packedVariant(name: string, shape: PackedShape, maxPanelRows = Infinity): MatmulVariant {
  const pack = packBKernel(shape.packedIn)
  const kernel = packedMatmulKernel(shape)
  const paramsFor = (backend: Backend, p: MatmulParams): PackedParams => {
    const { rows } = packedLayout({ ...p, panelRows: 1 })
    const limit = shape.packedIn === 'texture' ? backend.maxTextureDimension2D : Infinity
    return { ...p, panelRows: Math.min(rows, limit, maxPanelRows) }
  }
  return {
    name,
    fits(backend, p) {
      const { width, height } = packedImageSize(paramsFor(backend, p))
      return shape.packedIn === 'buffer' || (width <= backend.maxTextureDimension2D && height <= backend.maxTextureDimension2D)
    },
    run(backend, p, a, b, bias, out, opts) {
      const q = paramsFor(backend, p)
      const key = opts?.reuseB ? packedBKey(shape.packedIn, q) : undefined
      const cached = key === undefined ? undefined : backend.derived.get(b, key)
      if (cached) {
        backend.run(kernel, q, [a, cached, ...(bias ? [bias] : [])], [out])
        return
      }
      const { width, height } = packedImageSize(q)
      const packed = shape.packedIn === 'texture' ? backend.allocTexture(width, height) : backend.alloc('f32', width * height * 4)
      backend.run(pack, q, [b], [packed])
      backend.run(kernel, q, [a, packed, ...(bias ? [bias] : [])], [out])
      if (key === undefined || !backend.derived.put(b, key, packed)) backend.release(packed)
    },
  }
}

/**
 * The candidates: tile sizes are data; every entry is one of the two generators. The packed
 * texture kernel comes in four workgroup widths: a workgroup covers threads·16 columns, and on
 * lavapipe lanes past n cost nearly as much as working ones, so narrow products (the weight
 * and activation shapes of small transformers, n = 128…512) want narrow workgroups. Measured
 * on lavapipe, prior training shapes (m = 2560, n = 128, k = 512; dW with k = 2560): 8 threads
 * ran 2–4× faster than 64, which stays the best at 1024³.
 */
export const MATMUL_VARIANTS = {
  'tiled.32x32': tiledVariant('tiled.32x32', { threadsN: 8, threadsM: 8, threadM: 4, threadN: 4, tileK: 16 }),
  'tiled.64x64': tiledVariant('tiled.64x64', { threadsN: 16, threadsM: 16, threadM: 4, threadN: 4, tileK: 8 }),
  'texture.8x16': packedVariant('texture.8x16', { rows: 8, texels: 4, threads: 64, packedIn: 'texture' }),
  'texture.8x16.t32': packedVariant('texture.8x16.t32', { rows: 8, texels: 4, threads: 32, packedIn: 'texture' }),
  'texture.8x16.t16': packedVariant('texture.8x16.t16', { rows: 8, texels: 4, threads: 16, packedIn: 'texture' }),
  'texture.8x16.t8': packedVariant('texture.8x16.t8', { rows: 8, texels: 4, threads: 8, packedIn: 'texture' }),
  'vec4.8x16': packedVariant('vec4.8x16', { rows: 8, texels: 4, threads: 64, packedIn: 'buffer' }),
} satisfies Record<string, MatmulVariant>

export type MatmulVariantName = keyof typeof MATMUL_VARIANTS
