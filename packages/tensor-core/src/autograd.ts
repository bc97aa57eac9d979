import { TesseraError } from './errors.js'
import type { Tensor } from './tensor.js'

/*
 * The tape: what ops record as they run. Running it backwards is `backward.ts`, which needs
 * the ops themselves (add, copy, ones), so it sits above them.
 */

/**
 * One recorded op on the tape: its differentiable inputs and how to turn the gradient of
 * its output into gradients of those inputs (null where an input needs none).
 */
export interface GradNode {
  readonly name: string
  readonly inputs: readonly Tensor[]
  backward(grad: Tensor): readonly (Tensor | null | undefined)[]
}

let gradEnabled = true

/** Runs `fn` without recording: for inference, optimizer updates and backward itself. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled
  gradEnabled = false
  try {
    return fn()
  } finally {
    gradEnabled = prev
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled
}

/** Attaches a node to `out` when any input requires grad and recording is on. */
export function record(out: Tensor, name: string, inputs: readonly Tensor[], backward: GradNode['backward']): void {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return
  out.requiresGrad = true
  out.node = { name, inputs, backward }
}

export class AutogradError extends TesseraError {
  static override readonly code: string = 'autograd'
}
