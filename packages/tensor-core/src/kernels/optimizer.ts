import { foreachKernel } from './foreach.js'

/**
 * In-place parameter updates as foreach kernels (kernels/foreach.ts): one pass over each
 * parameter, its gradient and its optimizer state, for as many parameters per dispatch as the
 * adapter can bind, instead of a chain of elementwise ops per parameter.
 */

/**
 * AdamW. Scalars: lr, beta1, beta2, eps, weightDecay, bc1 and bc2 (1 − β1^t and 1 − β2^t),
 * gradScale (gradients are divided by it: loss scaling).
 */
export const adamwKernel = foreachKernel({
  name: 'adamw',
  shared: [],
  inputs: ['g'],
  outputs: ['p', 'm', 'v'],
  scalars: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'bc1', 'bc2', 'gradScale'],
  wgsl: ({ g, p, m, v }) => `        let grad = ${g}[i] / u.gradScale;
        let mi = u.beta1 * ${m}[i] + (1.0 - u.beta1) * grad;
        let vi = u.beta2 * ${v}[i] + (1.0 - u.beta2) * grad * grad;
        ${m}[i] = mi;
        ${v}[i] = vi;
        let decayed = ${p}[i] * (1.0 - u.lr * u.weightDecay);
        ${p}[i] = decayed - u.lr * (mi / u.bc1) / (sqrt(vi / u.bc2) + u.eps);`,
  cpu(i, { g, p, m, v }, s) {
    // Math.fround at each step mirrors the f32 arithmetic of the WGSL.
    const f = Math.fround
    const grad = f(g![i]! / s.gradScale!)
    const mi = f(f(s.beta1! * m![i]!) + f(f(1 - s.beta1!) * grad))
    const vi = f(f(s.beta2! * v![i]!) + f(f(f(1 - s.beta2!) * grad) * grad))
    m![i] = mi
    v![i] = vi
    const decayed = f(p![i]! * f(1 - f(s.lr! * s.weightDecay!)))
    p![i] = f(decayed - f(f(s.lr! * f(mi / s.bc1!)) / f(f(Math.sqrt(f(vi / s.bc2!))) + s.eps!)))
  },
})

/**
 * SGD with optional (Nesterov) momentum; the first step initialises the momentum buffer with
 * the gradient, as PyTorch does. Without momentum there is no buffer to bind.
 */
export function sgdKernel(momentum: boolean, nesterov: boolean) {
  return momentum ? (nesterov ? SGD_NESTEROV : SGD_MOMENTUM) : SGD_PLAIN
}

function sgdSpec(momentum: boolean, nesterov: boolean) {
  return foreachKernel({
    name: `sgd${momentum ? (nesterov ? '.nesterov' : '.momentum') : ''}`,
    shared: [],
    inputs: ['g'],
    outputs: momentum ? ['p', 'buf'] : ['p'],
    scalars: ['lr', 'momentum', 'dampening', 'weightDecay', 'first', 'gradScale'],
    wgsl: ({ g, p, buf }) => `        var d = ${g}[i] / u.gradScale + u.weightDecay * ${p}[i];
${
  momentum
    ? `        let b = select(u.momentum * ${buf}[i] + (1.0 - u.dampening) * d, d, u.first == 1.0);
        ${buf}[i] = b;
        d = ${nesterov ? 'd + u.momentum * b' : 'b'};`
    : ''
}
        ${p}[i] = ${p}[i] - u.lr * d;`,
    cpu(i, { g, p, buf }, s) {
      const f = Math.fround
      let d = f(f(g![i]! / s.gradScale!) + f(s.weightDecay! * p![i]!))
      if (momentum) {
        const b = s.first === 1 ? d : f(f(s.momentum! * buf![i]!) + f(f(1 - s.dampening!) * d))
        buf![i] = b
        d = nesterov ? f(d + f(s.momentum! * b)) : b
      }
      p![i] = f(p![i]! - f(s.lr! * d))
    },
  })
}

const SGD_PLAIN = sgdSpec(false, false)
const SGD_MOMENTUM = sgdSpec(true, false)
const SGD_NESTEROV = sgdSpec(true, true)

/**
 * Gradient clipping's scale, in place: x ← x · maxNorm / max(√sumSq + eps, maxNorm), with
 * sumSq (Σ‖g‖² over all gradients, one element) read on the device: no read-back.
 */
export const clipScaleKernel = foreachKernel({
  name: 'clipScale',
  shared: ['sumSq'],
  inputs: [],
  outputs: ['x'],
  scalars: ['maxNorm', 'eps'],
  wgsl: ({ sumSq, x }) => `        ${x}[i] = ${x}[i] * (u.maxNorm / max(sqrt(${sumSq}[0]) + u.eps, u.maxNorm));`,
  cpu(i, { sumSq, x }, s) {
    const f = Math.fround
    x![i] = f(x![i]! * f(s.maxNorm! / Math.max(f(f(Math.sqrt(sumSq![0]!)) + s.eps!), s.maxNorm!)))
  },
})
