import type { Backend } from '../backend/backend.js'
import { tunedMatmulVariant } from '../autotune.js'
import type { Device } from '../device.js'
import { gridColumns, type MatmulParams } from '../kernels/matmul.js'
import { MATMUL_VARIANTS, type MatmulVariant, type MatmulVariantName } from './matmul-variants.js'

/**
 * Below this many multiply-adds a packed variant's extra dispatch (packing B) costs more
 * than its faster inner loop saves.
 */
const PACKED_MIN_MACS = 64 ** 3

/**
 * Variant per adapter profile: packed B in a texture on software adapters, workgroup tiling
 * on GPUs (64×64 tiles measured fastest of the tiled shapes on an H200 through Vulkan, at all
 * three bench shapes: bench/results/gpu-variants-h200.json).
 */
export function defaultMatmulVariant(backend: Backend, p: MatmulParams): MatmulVariant {
  // Every variant runs `matmulCpu` on the CPU backend; packing B there would only copy it twice.
  if (backend.adapter.backend !== 'cpu' && backend.adapter.software && p.batch * p.m * p.n * p.k >= PACKED_MIN_MACS) {
    const texture = MATMUL_VARIANTS[packedTextureFor(gridColumns(p))]
    return texture.fits(backend, p) ? texture : MATMUL_VARIANTS['vec4.8x16']
  }
  return MATMUL_VARIANTS['tiled.64x64']
}

/** The packed texture variant whose workgroup (threads·16 columns) is widest without passing n columns by more than 2×. */
function packedTextureFor(columns: number): MatmulVariantName {
  if (columns <= 16 * 8 * 2) return 'texture.8x16.t8'
  if (columns <= 16 * 16 * 2) return 'texture.8x16.t16'
  if (columns <= 16 * 32 * 2) return 'texture.8x16.t32'
  return 'texture.8x16'
}

/** The autotuned winner for this adapter and shape class if there is one, else the profile default. */
export function selectMatmulVariant(device: Device, p: MatmulParams): MatmulVariant {
  const tuned = tunedMatmulVariant(device.backend, p)
  return tuned?.fits(device.backend, p) ? tuned : defaultMatmulVariant(device.backend, p)
}
