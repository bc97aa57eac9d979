import { record } from '../autograd.js'
import type { DType } from '../dtype.js'
import { DTypeError } from '../errors.js'
import { computeTypeOf, type ElementwiseOp } from '../kernels/elementwise.js'
import { FORMULAS } from '../kernels/elementwise-formulas.js'
import type { Tensor } from '../tensor.js'
import { sumToShape } from './broadcast.js'
import { elementwise, type Operand } from './elementwise-core.js'

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
