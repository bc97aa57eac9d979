import { activationCpu, activationGradCpu, activationWgsl } from './activations.js'
import type { ComputeType, ElementwiseOp } from './elementwise.js'

/** Defines an elementwise formula once, for WGSL and the CPU reference. */
function formula(name: string, arity: 1 | 2 | 3, wgsl: ElementwiseOp['wgsl'], cpu: ElementwiseOp['cpu']): ElementwiseOp {
  return { name, arity, wgsl, cpu }
}

const isInt = (c: ComputeType) => c !== 'f32'

function erfApprox(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return Math.sign(x) * y
}

/** Every formula the elementwise kernel knows, forward and backward helpers alike. */
export const FORMULAS = {
  identity: formula('identity', 1, ([a]) => a!, ([a]) => a!),
  neg: formula('neg', 1, ([a]) => `-${a}`, ([a]) => -a!),
  exp: formula('exp', 1, ([a]) => `exp(${a})`, ([a]) => Math.exp(a!)),
  log: formula('log', 1, ([a]) => `log(${a})`, ([a]) => Math.log(a!)),
  sqrt: formula('sqrt', 1, ([a]) => `sqrt(${a})`, ([a]) => Math.sqrt(a!)),
  rsqrt: formula('rsqrt', 1, ([a]) => `inverseSqrt(${a})`, ([a]) => 1 / Math.sqrt(a!)),
  abs: formula('abs', 1, ([a]) => `abs(${a})`, ([a]) => Math.abs(a!)),
  sign: formula('sign', 1, ([a]) => `sign(${a})`, ([a]) => Math.sign(a!)),
  square: formula('square', 1, ([a]) => `${a} * ${a}`, ([a]) => a! * a!),
  reciprocal: formula('reciprocal', 1, ([a]) => `1.0 / ${a}`, ([a]) => 1 / a!),
  sin: formula('sin', 1, ([a]) => `sin(${a})`, ([a]) => Math.sin(a!)),
  cos: formula('cos', 1, ([a]) => `cos(${a})`, ([a]) => Math.cos(a!)),
  // NaN in, NaN out, as PyTorch (and Math.max) does: WGSL's max/min/clamp may drop a NaN.
  relu: formula('relu', 1, ([a], c) => (isInt(c) ? `max(${a}, ${c}(0))` : activationWgsl.relu(a!)), ([a]) => activationCpu.relu(a!)),
  sigmoid: formula('sigmoid', 1, ([a]) => activationWgsl.sigmoid(a!), ([a]) => activationCpu.sigmoid(a!)),
  tanh: formula('tanh', 1, ([a]) => `safe_tanh(${a})`, ([a]) => Math.tanh(a!)),
  gelu: formula('gelu', 1, ([a]) => activationWgsl.gelu(a!), ([a]) => activationCpu.gelu(a!)),
  geluErf: formula('geluErf', 1, ([a]) => `0.5 * ${a} * (1.0 + erf_approx(${a} * ${Math.SQRT1_2}))`, ([a]) => 0.5 * a! * (1 + erfApprox(a! * Math.SQRT1_2))),
  quickGelu: formula('quickGelu', 1, ([a]) => activationWgsl.quickGelu(a!), ([a]) => activationCpu.quickGelu(a!)),
  add: formula('add', 2, ([a, b]) => `${a} + ${b}`, ([a, b], c) => wrap(a! + b!, c)),
  sub: formula('sub', 2, ([a, b]) => `${a} - ${b}`, ([a, b], c) => wrap(a! - b!, c)),
  mul: formula('mul', 2, ([a, b]) => `${a} * ${b}`, ([a, b], c) => (isInt(c) ? wrap(Math.imul(a!, b!), c) : a! * b!)),
  // Integer division follows WGSL: x / 0 = x, and INT_MIN / -1 wraps to INT_MIN.
  div: formula('div', 2, ([a, b]) => `${a} / ${b}`, ([a, b], c) => (isInt(c) ? (b === 0 ? a! : wrap(Math.trunc(a! / b!), c)) : a! / b!)),
  pow: formula('pow', 2, ([a, b]) => `pow_signed(${a}, ${b})`, ([a, b]) => a! ** b!),
  maximum: formula('maximum', 2, ([a, b], c) => (isInt(c) ? `max(${a}, ${b})` : `nan_max(${a}, ${b})`), ([a, b]) => Math.max(a!, b!)),
  minimum: formula('minimum', 2, ([a, b], c) => (isInt(c) ? `min(${a}, ${b})` : `nan_min(${a}, ${b})`), ([a, b]) => Math.min(a!, b!)),
  eq: formula('eq', 2, ([a, b]) => `select(0u, 1u, ${a} == ${b})`, ([a, b]) => +(a === b)),
  ne: formula('ne', 2, ([a, b]) => `select(0u, 1u, ${a} != ${b})`, ([a, b]) => +(a !== b)),
  lt: formula('lt', 2, ([a, b]) => `select(0u, 1u, ${a} < ${b})`, ([a, b]) => +(a! < b!)),
  le: formula('le', 2, ([a, b]) => `select(0u, 1u, ${a} <= ${b})`, ([a, b]) => +(a! <= b!)),
  gt: formula('gt', 2, ([a, b]) => `select(0u, 1u, ${a} > ${b})`, ([a, b]) => +(a! > b!)),
  ge: formula('ge', 2, ([a, b]) => `select(0u, 1u, ${a} >= ${b})`, ([a, b]) => +(a! >= b!)),
  where: formula('where', 3, ([c, a, b], t) => `select(${b}, ${a}, ${c} != ${t}(0))`, ([c, a, b]) => (c !== 0 ? a! : b!)),
  clamp: formula('clamp', 3, ([x, lo, hi], c) => (isInt(c) ? `clamp(${x}, ${lo}, ${hi})` : `select(clamp(${x}, ${lo}, ${hi}), ${x}, tessera_is_nan(${x}))`), ([x, lo, hi]) => Math.min(Math.max(x!, lo!), hi!)),
  // Backward formulas: (x or y, upstream gradient) → input gradient.
  reluBackward: formula('reluBackward', 2, ([x, g]) => `select(0.0, ${g}, ${x} > 0.0)`, ([x, g]) => (x! > 0 ? g! : 0)),
  sigmoidBackward: formula('sigmoidBackward', 2, ([y, g]) => `${g} * ${y} * (1.0 - ${y})`, ([y, g]) => g! * y! * (1 - y!)),
  tanhBackward: formula('tanhBackward', 2, ([y, g]) => `${g} * (1.0 - ${y} * ${y})`, ([y, g]) => g! * (1 - y! * y!)),
  geluBackward: formula('geluBackward', 2, ([x, g]) => `${g} * gelu_tanh_grad(${x})`, ([x, g]) => g! * activationGradCpu.gelu(x!)),
  geluErfBackward: formula(
    'geluErfBackward',
    2,
    ([x, g]) => `${g} * (0.5 * (1.0 + erf_approx(${x} * ${Math.SQRT1_2})) + ${x} * ${1 / Math.sqrt(2 * Math.PI)} * exp(-0.5 * ${x} * ${x}))`,
    ([x, g]) => g! * (0.5 * (1 + erfApprox(x! * Math.SQRT1_2)) + (x! * Math.exp(-0.5 * x! * x!)) / Math.sqrt(2 * Math.PI)),
  ),
  quickGeluBackward: formula('quickGeluBackward', 2, ([x, g]) => `${g} * quick_gelu_grad(${x})`, ([x, g]) => g! * activationGradCpu.quickGelu(x!)),
} satisfies Record<string, ElementwiseOp>

function wrap(v: number, c: ComputeType): number {
  return c === 'u32' ? v >>> 0 : c === 'i32' ? v | 0 : v
}
