import { noGrad } from '../autograd.js'
import { clipScaleKernel } from '../kernels/optimizer.js'
import { sqrt } from '../ops/elementwise.js'
import { runForeach, sumOfSquares } from '../ops/foreach.js'
import type { Tensor } from '../tensor.js'

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (torch's
 * clip_grad_norm_), entirely on the device: no read-back stalls the step. Foreach kernels
 * (a few dispatches for all gradients, not several per gradient). Returns the norm before
 * clipping as a one-element tensor the caller owns.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, eps = 1e-6): Tensor | null {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g)
  if (!grads.length) return null
  return noGrad(() => {
    const sumSq = sumOfSquares(grads)
    runForeach(clipScaleKernel, grads.map((g) => ({ inputs: [], outputs: [g] })), { maxNorm, eps }, [sumSq])
    const norm = sqrt(sumSq)
    sumSq.dispose()
    return norm
  })
}
