import type { Device } from '../device.js'
import type { Kernel } from '../kernel.js'
import { matmulTiledKernel, type MatmulParams } from '../kernels/matmul.js'

/** Picks the matmul variant for this adapter and problem. */
export function selectMatmulKernel(_device: Device, _p: MatmulParams): Kernel<MatmulParams> {
  return matmulTiledKernel
}
