/*
 * The activation functions, each written once: a WGSL expression builder and its CPU twin.
 * The elementwise ops (kernels/elementwise-formulas.ts) and the matmul/conv epilogues
 * (kernels/matmul.ts) both use them, forward and backward. WGSL's `safe_tanh` comes from
 * kernel.ts's helper table (lavapipe's tanh overflows to NaN past ~44).
 */

/** √(2/π), the tanh-GELU's scale (0.7978845608028654). */
export const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)
const GELU_CUBIC = 0.044715
/** QuickGELU (CLIP): x·σ(1.702·x). */
const QUICK_GELU_SCALE = 1.702

/** WGSL expressions of one f32 operand (an identifier or a parenthesised expression). */
export const activationWgsl = {
  /** NaN stays NaN, as in PyTorch: WGSL's max may drop a NaN. */
  relu: (x: string) => `select(max(${x}, 0.0), ${x}, tessera_is_nan(${x}))`,
  sigmoid: (x: string) => `1.0 / (1.0 + exp(-${x}))`,
  /** The tanh form of GELU (GPT-2 / DALL·E). */
  gelu: (x: string) => `0.5 * ${x} * (1.0 + safe_tanh(${geluTanhArgWgsl(x)}))`,
  quickGelu: (x: string) => `${x} / (1.0 + exp(-${QUICK_GELU_SCALE} * ${x}))`,
}

/** The tanh-GELU's tanh argument, √(2/π)·(x + 0.044715·x³). */
export function geluTanhArgWgsl(x: string): string {
  return `${SQRT_2_OVER_PI} * (${x} + ${GELU_CUBIC} * ${x} * ${x} * ${x})`
}

/** WGSL `gelu_tanh_grad(x)` and `quick_gelu_grad(x)`: d/dx of the two GELUs. */
export const ACTIVATION_GRAD_WGSL = `
fn gelu_tanh_grad(x: f32) -> f32 {
  let th = safe_tanh(${geluTanhArgWgsl('x')});
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * ${SQRT_2_OVER_PI} * (1.0 + 0.134145 * x * x);
}
fn quick_gelu_grad(x: f32) -> f32 {
  let s = ${activationWgsl.sigmoid(`${QUICK_GELU_SCALE} * x`)};
  return s + ${QUICK_GELU_SCALE} * x * s * (1.0 - s);
}`

const geluTanhArg = (x: number) => SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)

/** CPU twins of `activationWgsl` (f64 here, rounded to the tensor's dtype on store). */
export const activationCpu = {
  relu: (x: number) => Math.max(x, 0),
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  gelu: (x: number) => 0.5 * x * (1 + Math.tanh(geluTanhArg(x))),
  quickGelu: (x: number) => x / (1 + Math.exp(-QUICK_GELU_SCALE * x)),
}

/** CPU twins of `gelu_tanh_grad` and `quick_gelu_grad`. */
export const activationGradCpu = {
  gelu(x: number): number {
    const th = Math.tanh(geluTanhArg(x))
    return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x)
  },
  quickGelu(x: number): number {
    const s = activationCpu.sigmoid(QUICK_GELU_SCALE * x)
    return s + QUICK_GELU_SCALE * x * s * (1 - s)
  },
}
