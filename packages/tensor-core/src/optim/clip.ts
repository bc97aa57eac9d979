import { noGrad } from '../autograd.js'
import { add, div, maximum, mul, sqrt } from '../ops/elementwise.js'
import { sum } from '../ops/reduce.js'
import { square } from '../ops/elementwise.js'
import { assign } from '../ops/inplace.js'
import { tidy } from '../scope.js'
import type { Tensor } from '../tensor.js'

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (torch's
 * clip_grad_norm_), entirely on the device: no read-back stalls the step. Returns the norm
 * before clipping as a one-element tensor the caller owns.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, eps = 1e-6): Tensor | null {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g)
  if (!grads.length) return null
  return noGrad(() =>
    tidy(() => {
      let total: Tensor | null = null
      for (const g of grads) {
        const s = sum(square(g))
        total = total ? add(total, s) : s
      }
      const norm = sqrt(total!)
      // factor = maxNorm / max(norm + eps, maxNorm) = min(1, maxNorm / (norm + eps))
      const factor = div(maxNorm, maximum(add(norm, eps), maxNorm))
      for (const g of grads) assign(g, mul(g, factor))
      return norm
    }),
  )
}
