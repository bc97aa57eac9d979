import { groupsFor, type Kernel } from '../kernel.js'

/**
 * In-place parameter updates: one pass over a parameter, its gradient and its optimizer
 * state, instead of a chain of elementwise ops and copies.
 */
export interface AdamWParams {
  size: number
  lr: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** 1 − β1^t and 1 − β2^t. */
  biasCorrection1: number
  biasCorrection2: number
  /** Gradients are divided by this (loss scaling). */
  gradScale: number
}

export interface SgdParams {
  size: number
  lr: number
  momentum: number
  dampening: number
  weightDecay: number
  nesterov: boolean
  /** The first step initialises the momentum buffer with the gradient, as PyTorch does. */
  firstStep: boolean
  gradScale: number
}

const WG = 256

export const adamwKernel: Kernel<AdamWParams> = {
  name: 'adamw',
  key: () => '',
  shader: () => ({
    inputs: [{ name: 'g', dtype: 'f32' }],
    outputs: [
      { name: 'p', dtype: 'f32' },
      { name: 'm', dtype: 'f32' },
      { name: 'v', dtype: 'f32' },
    ],
    uniforms: ['size', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'bc1', 'bc2', 'gradScale'].map((name, i) => ({ name, type: i === 0 ? ('u32' as const) : ('f32' as const) })),
    workgroupSize: WG,
    body: `  let i = wg * ${WG}u + lidx;
  if (i >= u.size) { return; }
  let grad = g[i] / u.gradScale;
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * grad;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * grad * grad;
  m[i] = mi;
  v[i] = vi;
  let decayed = p[i] * (1.0 - u.lr * u.weightDecay);
  p[i] = decayed - u.lr * (mi / u.bc1) / (sqrt(vi / u.bc2) + u.eps);`,
  }),
  uniforms: (p) => [p.size, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.biasCorrection1, p.biasCorrection2, p.gradScale],
  workgroups: (p) => groupsFor(p.size, WG),
  cpu(p, [g], [param, m, v]) {
    // Math.fround at each step mirrors the f32 arithmetic of the WGSL kernel.
    const f = Math.fround
    for (let i = 0; i < p.size; i++) {
      const grad = f(g![i]! / p.gradScale)
      const mi = f(f(p.beta1 * m![i]!) + f(f(1 - p.beta1) * grad))
      const vi = f(f(p.beta2 * v![i]!) + f(f(f(1 - p.beta2) * grad) * grad))
      m![i] = mi
      v![i] = vi
      const decayed = f(param![i]! * f(1 - f(p.lr * p.weightDecay)))
      param![i] = f(decayed - f(f(p.lr * f(mi / p.biasCorrection1)) / f(f(Math.sqrt(f(vi / p.biasCorrection2))) + p.eps)))
    }
  },
}

export const sgdKernel: Kernel<SgdParams> = {
  name: 'sgd',
  key: (p) => `${+p.nesterov}|${+(p.momentum !== 0)}`,
  shader: (p) => ({
    inputs: [{ name: 'g', dtype: 'f32' }],
    outputs: [
      { name: 'p', dtype: 'f32' },
      { name: 'buf', dtype: 'f32' },
    ],
    uniforms: ['size', 'lr', 'momentum', 'dampening', 'weightDecay', 'first', 'gradScale'].map((name, i) => ({
      name,
      type: i === 0 || name === 'first' ? ('u32' as const) : ('f32' as const),
    })),
    workgroupSize: WG,
    body: `  let i = wg * ${WG}u + lidx;
  if (i >= u.size) { return; }
  var d = g[i] / u.gradScale + u.weightDecay * p[i];
  ${
    p.momentum !== 0
      ? `let b = select(u.momentum * buf[i] + (1.0 - u.dampening) * d, d, u.first == 1u);
  buf[i] = b;
  d = ${p.nesterov ? 'd + u.momentum * b' : 'b'};`
      : ''
  }
  p[i] = p[i] - u.lr * d;`,
  }),
  uniforms: (p) => [p.size, p.lr, p.momentum, p.dampening, p.weightDecay, +p.firstStep, p.gradScale],
  workgroups: (p) => groupsFor(p.size, WG),
  cpu(p, [g], [param, buf]) {
    const f = Math.fround
    for (let i = 0; i < p.size; i++) {
      let d = f(f(g![i]! / p.gradScale) + f(p.weightDecay * param![i]!))
      if (p.momentum !== 0) {
        const b = p.firstStep ? d : f(f(p.momentum * buf![i]!) + f(f(1 - p.dampening) * d))
        buf![i] = b
        d = p.nesterov ? f(d + f(p.momentum * b)) : b
      }
      param![i] = f(param![i]! - f(p.lr * d))
    }
  },
}
