import { ops, type Tensor } from '@tessera/tensor-core'
import { DvaeInputError } from './errors.js'

/**
 * ε of the logit-Laplace distribution: pixels are squeezed into (ε, 1−ε) so their logit
 * stays finite (dall_e.utils.logit_laplace_eps).
 */
export const LOGIT_LAPLACE_EPS = 0.1

function checkImages(x: Tensor, what: string): void {
  if (x.rank !== 4) throw new DvaeInputError(`${what} expects NCHW images [N, C, H, W], got [${x.shape.join(', ')}]`)
  if (x.dtype !== 'f32') throw new DvaeInputError(`${what} expects f32 images, got ${x.dtype}`)
}

/** [0, 1] → [ε, 1−ε]: x·(1−2ε) + ε. */
export function mapPixels(x: Tensor): Tensor {
  checkImages(x, 'mapPixels')
  return ops.add(ops.mul(x, 1 - 2 * LOGIT_LAPLACE_EPS), LOGIT_LAPLACE_EPS)
}

/** The inverse of mapPixels, clamped to [0, 1]. */
export function unmapPixels(x: Tensor): Tensor {
  checkImages(x, 'unmapPixels')
  return ops.clamp(ops.div(ops.sub(x, LOGIT_LAPLACE_EPS), 1 - 2 * LOGIT_LAPLACE_EPS), 0, 1)
}
