import { record } from '../autograd.js'
import { DTypeError, ShapeError, TensorStateError } from '../errors.js'
import type { DType } from '../dtype.js'
import { computeTypeOf, elementwiseKernel, type ComputeType, type ElementwiseOp, type ElementwiseParams } from '../kernels/elementwise.js'
import { broadcastShapes, broadcastStrides, fmt, shapesEqual, type Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { emptyTensor } from './creation.js'
import { sumToShape } from './reduce.js'

export type Operand = Tensor | number

/** Defines an elementwise formula once, for WGSL and the CPU reference. */
function formula(name: string, arity: 1 | 2 | 3, wgsl: ElementwiseOp['wgsl'], cpu: ElementwiseOp['cpu']): ElementwiseOp {
  return { name, arity, wgsl, cpu }
}

const isInt = (c: ComputeType) => c !== 'f32'
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)

function erfApprox(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return Math.sign(x) * y
}
const sigmoidOf = (x: number) => 1 / (1 + Math.exp(-x))

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
  relu: formula('relu', 1, ([a], c) => (isInt(c) ? `max(${a}, ${c}(0))` : `select(max(${a}, 0.0), ${a}, tessera_is_nan(${a}))`), ([a]) => Math.max(a!, 0)),
  sigmoid: formula('sigmoid', 1, ([a]) => `1.0 / (1.0 + exp(-${a}))`, ([a]) => sigmoidOf(a!)),
  tanh: formula('tanh', 1, ([a]) => `safe_tanh(${a})`, ([a]) => Math.tanh(a!)),
  gelu: formula(
    'gelu',
    1,
    ([a]) => `0.5 * ${a} * (1.0 + safe_tanh(${SQRT_2_OVER_PI} * (${a} + 0.044715 * ${a} * ${a} * ${a})))`,
    ([a]) => 0.5 * a! * (1 + Math.tanh(SQRT_2_OVER_PI * (a! + 0.044715 * a! ** 3))),
  ),
  geluErf: formula('geluErf', 1, ([a]) => `0.5 * ${a} * (1.0 + erf_approx(${a} * ${Math.SQRT1_2}))`, ([a]) => 0.5 * a! * (1 + erfApprox(a! * Math.SQRT1_2))),
  quickGelu: formula('quickGelu', 1, ([a]) => `${a} / (1.0 + exp(-1.702 * ${a}))`, ([a]) => a! * sigmoidOf(1.702 * a!)),
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
  geluBackward: formula(
    'geluBackward',
    2,
    ([x, g]) =>
      `${g} * gelu_tanh_grad(${x})`,
    ([x, g]) => {
      const inner = SQRT_2_OVER_PI * (x! + 0.044715 * x! ** 3)
      const th = Math.tanh(inner)
      return g! * (0.5 * (1 + th) + 0.5 * x! * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x! * x!))
    },
  ),
  geluErfBackward: formula(
    'geluErfBackward',
    2,
    ([x, g]) => `${g} * (0.5 * (1.0 + erf_approx(${x} * ${Math.SQRT1_2})) + ${x} * ${1 / Math.sqrt(2 * Math.PI)} * exp(-0.5 * ${x} * ${x}))`,
    ([x, g]) => g! * (0.5 * (1 + erfApprox(x! * Math.SQRT1_2)) + (x! * Math.exp(-0.5 * x! * x!)) / Math.sqrt(2 * Math.PI)),
  ),
  quickGeluBackward: formula(
    'quickGeluBackward',
    2,
    ([x, g]) => `${g} * quick_gelu_grad(${x})`,
    ([x, g]) => {
      const s = sigmoidOf(1.702 * x!)
      return g! * (s + 1.702 * x! * s * (1 - s))
    },
  ),
} satisfies Record<string, ElementwiseOp>

function wrap(v: number, c: ComputeType): number {
  return c === 'u32' ? v >>> 0 : c === 'i32' ? v | 0 : v
}

/** The dtype elementwise results take: the first tensor operand's. */
function resultDtype(operands: readonly Operand[]): DType {
  const t = operands.find((o): o is Tensor => typeof o !== 'number')
  if (!t) throw new TensorStateError('an elementwise op needs at least one tensor operand')
  return t.dtype
}

/**
 * Runs a formula over tensors and scalars with NumPy broadcasting. Dims that every operand
 * walks contiguously are merged first, so most calls compile the rank-1 variant.
 */
export function elementwise(
  op: ElementwiseOp,
  operands: readonly Operand[],
  opts: { outDtype?: DType; compute?: ComputeType; shape?: Shape } = {},
): Tensor {
  const tensors = operands.filter((o): o is Tensor => typeof o !== 'number')
  const device = tensors[0]!.device
  for (const t of tensors) {
    if (t.device !== device) throw new TensorStateError('tensors from different devices cannot be combined')
  }
  let shape: number[] = [...(opts.shape ?? [])]
  for (const t of tensors) shape = broadcastShapes(shape, t.shape)
  if (opts.shape && shape.length !== opts.shape.length) throw new ShapeError(`cannot broadcast to ${fmt(opts.shape)}: an operand has more dims`)
  const dtype = resultDtype(operands)
  const outDtype = opts.outDtype ?? dtype
  const compute = opts.compute ?? computeTypeOf(dtype)
  if (outDtype === 'f16' && !device.backend.supportsF16) throw new DTypeError('this adapter has no shader-f16')
  const out = emptyTensor(device, shape, outDtype)
  if (out.size === 0) return out
  const { dims, strides } = coalesce(shape, tensors.map((t) => broadcastStrides(t.shape, shape)))
  const params: ElementwiseParams = {
    op,
    kinds: operands.map((o) => (typeof o === 'number' ? 's' : 't')),
    inDtypes: tensors.map((t) => t.dtype),
    compute,
    outDtype,
    shape: dims,
    strides,
    offsets: strides.map(() => 0),
    scalars: operands.filter((o): o is number => typeof o === 'number'),
    size: out.size,
  }
  device.backend.run(
    elementwiseKernel,
    params,
    tensors.map((t) => t.storage),
    [out.storage],
  )
  return out
}

/** Merges adjacent dims that every operand strides through contiguously; drops size-1 dims. */
export function coalesce(shape: Shape, strides: number[][]): { dims: number[]; strides: number[][] } {
  const dims: number[] = []
  const outStrides: number[][] = strides.map(() => [])
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue
    const last = dims.length - 1
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!)
    if (mergeable) {
      dims[last]! *= shape[d]!
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!))
    } else {
      dims.push(shape[d]!)
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!))
    }
  }
  if (dims.length === 0) return { dims: [1], strides: strides.map(() => [1]) }
  return { dims, strides: outStrides }
}

// ---- Public ops ---------------------------------------------------------------------------

function unary(op: ElementwiseOp, x: Tensor, grad?: (x: Tensor, y: Tensor, g: Tensor) => Tensor): Tensor {
  const y = elementwise(op, [x])
  if (grad) record(y, op.name, [x], (g) => [grad(x, y, g)])
  return y
}

export const neg = (x: Tensor): Tensor => {
  if (x.dtype === 'u32') throw new DTypeError('neg of a u32 tensor has no meaning; cast to i32 or f32 first')
  return unary(FORMULAS.neg, x, (_x, _y, g) => neg(g))
}
export const exp = (x: Tensor): Tensor => unary(FORMULAS.exp, x, (_x, y, g) => mul(g, y))
export const log = (x: Tensor): Tensor => unary(FORMULAS.log, x, (x, _y, g) => div(g, x))
export const sqrt = (x: Tensor): Tensor => unary(FORMULAS.sqrt, x, (_x, y, g) => div(mul(g, 0.5), y))
export const rsqrt = (x: Tensor): Tensor => unary(FORMULAS.rsqrt, x, (x, y, g) => mul(mul(g, -0.5), div(y, x)))
export const abs = (x: Tensor): Tensor => unary(FORMULAS.abs, x, (x, _y, g) => mul(g, elementwise(FORMULAS.sign, [x])))
export const square = (x: Tensor): Tensor => unary(FORMULAS.square, x, (x, _y, g) => mul(g, mul(x, 2)))
export const reciprocal = (x: Tensor): Tensor => unary(FORMULAS.reciprocal, x, (_x, y, g) => neg(mul(g, mul(y, y))))
export const sin = (x: Tensor): Tensor => unary(FORMULAS.sin, x, (x, _y, g) => mul(g, elementwise(FORMULAS.cos, [x])))
export const cos = (x: Tensor): Tensor => unary(FORMULAS.cos, x, (x, _y, g) => neg(mul(g, elementwise(FORMULAS.sin, [x]))))
/** ReLU's input gradient: g where x > 0. x may be ReLU's input or its output (the same test). */
export const reluBackward = (x: Tensor, g: Tensor): Tensor => elementwise(FORMULAS.reluBackward, [x, g])
export const relu = (x: Tensor): Tensor => unary(FORMULAS.relu, x, (x, _y, g) => reluBackward(x, g))
export const sigmoid = (x: Tensor): Tensor => unary(FORMULAS.sigmoid, x, (_x, y, g) => elementwise(FORMULAS.sigmoidBackward, [y, g]))
export const tanh = (x: Tensor): Tensor => unary(FORMULAS.tanh, x, (_x, y, g) => elementwise(FORMULAS.tanhBackward, [y, g]))
export const quickGelu = (x: Tensor): Tensor => unary(FORMULAS.quickGelu, x, (x, _y, g) => elementwise(FORMULAS.quickGeluBackward, [x, g]))

/** GELU; `approximate: 'tanh'` (GPT-2 / DALL·E) by default, `'none'` for the exact erf form. */
export function gelu(x: Tensor, opts: { approximate?: 'tanh' | 'none' } = {}): Tensor {
  return opts.approximate === 'none'
    ? unary(FORMULAS.geluErf, x, (x, _y, g) => elementwise(FORMULAS.geluErfBackward, [x, g]))
    : unary(FORMULAS.gelu, x, (x, _y, g) => elementwise(FORMULAS.geluBackward, [x, g]))
}

/** `x` repeated along broadcast dims to `shape` (a copy); its gradient sums back. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const y = elementwise(FORMULAS.identity, [x], { shape })
  if (!shapesEqual(y.shape, shape)) throw new ShapeError(`cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`)
  record(y, 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)])
  return y
}

/** A copy with its own storage (no autograd link beyond identity). */
export function copy(x: Tensor): Tensor {
  const y = elementwise(FORMULAS.identity, [x])
  record(y, 'copy', [x], (g) => [g])
  return y
}

function binaryGrad(
  name: keyof typeof FORMULAS,
  a: Operand,
  b: Operand,
  grads: (a: Operand, b: Operand, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  const y = elementwise(FORMULAS[name], [a, b])
  const inputs = [a, b].filter((o): o is Tensor => typeof o !== 'number')
  record(y, name, inputs, (g) => {
    const [ga, gb] = grads(a, b, y, g)
    const out: (Tensor | null)[] = []
    if (typeof a !== 'number') out.push(ga && sumToShape(ga, a.shape))
    if (typeof b !== 'number') out.push(gb && sumToShape(gb, b.shape))
    return out
  })
  return y
}

const needs = (o: Operand) => typeof o !== 'number' && o.requiresGrad

export const add = (a: Operand, b: Operand): Tensor => binaryGrad('add', a, b, (_a, _b, _y, g) => [g, g])
export const sub = (a: Operand, b: Operand): Tensor => binaryGrad('sub', a, b, (_a, b, _y, g) => [g, needs(b) ? neg(g) : null])
export const mul = (a: Operand, b: Operand): Tensor =>
  binaryGrad('mul', a, b, (a, b, _y, g) => [needs(a) ? mul(g, b) : null, needs(b) ? mul(g, a) : null])
export const div = (a: Operand, b: Operand): Tensor =>
  binaryGrad('div', a, b, (a, b, y, g) => [needs(a) ? div(g, b) : null, needs(b) ? neg(div(mul(g, y), b)) : null])
/** a^b; the gradient with respect to b needs a > 0. */
export const pow = (a: Operand, b: Operand): Tensor =>
  binaryGrad('pow', a, b, (a, b, y, g) => [
    needs(a) ? mul(g, mul(b, elementwise(FORMULAS.pow, [a, typeof b === 'number' ? b - 1 : sub(b, 1)]))) : null,
    needs(b) ? mul(g, mul(y, log(a as Tensor))) : null,
  ])
export const maximum = (a: Operand, b: Operand): Tensor =>
  binaryGrad('maximum', a, b, (a, b, _y, g) => [
    needs(a) ? where(ge(a, b), g, 0) : null,
    needs(b) ? where(ge(a, b), 0, g) : null,
  ])
export const minimum = (a: Operand, b: Operand): Tensor =>
  binaryGrad('minimum', a, b, (a, b, _y, g) => [
    needs(a) ? where(le(a, b), g, 0) : null,
    needs(b) ? where(le(a, b), 0, g) : null,
  ])

/** Comparisons give u32 0/1 tensors; they have no gradient. */
const compare = (name: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge') => (a: Operand, b: Operand) =>
  elementwise(FORMULAS[name], [a, b], { outDtype: 'u32' })
export const eq = compare('eq')
export const ne = compare('ne')
export const lt = compare('lt')
export const le = compare('le')
export const gt = compare('gt')
export const ge = compare('ge')

/** `cond ? a : b` elementwise with broadcasting; `cond` is any dtype (nonzero = true). */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : 'f32'
  // The condition is loaded in the compute type, so any dtype works (nonzero = true).
  const y = elementwise(FORMULAS.where, [cond, a, b], { outDtype: dtype, compute: computeTypeOf(dtype) })
  const inputs = [a, b].filter((o): o is Tensor => typeof o !== 'number')
  record(y, 'where', inputs, (g) => {
    const out: (Tensor | null)[] = []
    if (typeof a !== 'number') out.push(a.requiresGrad ? sumToShape(where(cond, g, 0), a.shape) : null)
    if (typeof b !== 'number') out.push(b.requiresGrad ? sumToShape(where(cond, 0, g), b.shape) : null)
    return out
  })
  return y
}

export function clamp(x: Tensor, min: number, max: number): Tensor {
  const y = elementwise(FORMULAS.clamp, [x, min, max])
  record(y, 'clamp', [x], (g) => [where(elementwise(FORMULAS.eq, [x, y], { outDtype: 'u32' }), g, 0)])
  return y
}

/** Converts dtype (f32 ↔ i32 ↔ u32 ↔ f16); float → int truncates toward zero. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return copy(x)
  const y = elementwise(FORMULAS.identity, [x], { outDtype: dtype, compute: computeTypeOf(dtype) })
  if (dtype === 'f32' || dtype === 'f16') record(y, 'cast', [x], (g) => [cast(g, x.dtype)])
  return y
}
