import type { DType, HostArray } from '../dtype.js'
import { groupsFor, type Kernel, type ShaderSpec } from '../kernel.js'
import { ACTIVATION_GRAD_WGSL } from './activations.js'

/**
 * An elementwise formula over up to three operands, each a tensor (broadcast) or a scalar
 * uniform. `wgsl` and `cpu` receive the operand values already converted to the compute type.
 */
export interface ElementwiseOp {
  readonly name: string
  readonly arity: 1 | 2 | 3
  wgsl(args: string[], compute: ComputeType): string
  cpu(args: number[], compute: ComputeType): number
}

/** Arithmetic happens in f32 for f32/f16 tensors, else in the integer type. */
export type ComputeType = 'f32' | 'i32' | 'u32'

export function computeTypeOf(dtype: DType): ComputeType {
  return dtype === 'f16' ? 'f32' : dtype
}

export interface ElementwiseParams {
  op: ElementwiseOp
  /** 't' for a tensor operand, 's' for a scalar uniform, in operand order. */
  kinds: readonly ('t' | 's')[]
  /** Dtype of each tensor operand, in order. */
  inDtypes: readonly DType[]
  compute: ComputeType
  outDtype: DType
  /** Output shape after merging dims that every operand walks contiguously. */
  shape: readonly number[]
  /** Per tensor operand: strides over `shape` (0 where broadcast). */
  strides: readonly (readonly number[])[]
  /** Per tensor operand: first element read (slices); all 0 for whole tensors. */
  offsets: readonly number[]
  /** Where results go when the output is a strided region of a larger tensor (concat, pad). */
  outRegion?: { strides: readonly number[]; offset: number }
  scalars: readonly number[]
  size: number
}

const WG = 256
const PER_INVOCATION = 8

/** Whether an operand (or, for k = -1, the output) is addressed by the output index itself. */
function isDirect(p: ElementwiseParams, k: number): boolean {
  if (k === -1 && !p.outRegion) return true
  if (k >= 0 ? p.offsets[k] !== 0 : p.outRegion!.offset !== 0) return false
  const strides = k === -1 ? p.outRegion!.strides : p.strides[k]!
  let s = 1
  for (let d = p.shape.length - 1; d >= 0; d--) {
    if (p.shape[d] !== 1 && strides[d] !== s) return false
    s *= p.shape[d]!
  }
  return true
}

/**
 * Every operand and the output addressed by the element index, in whole groups of 4: the
 * kernel then moves vec4s, one 16-byte load per operand for 4 elements. Software adapters
 * run a per-invocation buffer load as a scalar loop over the SIMD lanes, so this cuts the
 * loads 4×; on lavapipe a 2^19-element add went from ~4 ms to ~1.5 ms.
 */
function movesQuads(p: ElementwiseParams): boolean {
  return p.size % 4 === 0 && allDirect(p)
}

/** Every operand and the output addressed by the element index. */
const allDirect = (p: ElementwiseParams) => [-1, ...p.strides.keys()].every((k) => isDirect(p, k))

/** Per operand (output first): 'd' addressed by the element index, 'b' broadcast or strided. */
const operandLayouts = (p: ElementwiseParams) => [-1, ...p.strides.keys()].map((k) => (isDirect(p, k) ? 'd' : 'b')).join('')

/** Elements (or quads of 4) each invocation handles. */
const itemsOf = (p: ElementwiseParams) => (movesQuads(p) ? p.size / 4 : p.size)

export const elementwiseKernel: Kernel<ElementwiseParams> = {
  name: 'elementwise',
  key: (p) =>
    [p.op.name, p.kinds.join(''), p.inDtypes.join(','), p.compute, p.outDtype, p.shape.length, movesQuads(p) ? 'q' : operandLayouts(p)].join('|'),
  shader(p) {
    if (movesQuads(p)) return quadShader(p)
    const rank = p.shape.length
    const uniforms: ShaderSpec['uniforms'] = [{ name: 'size', type: 'u32' }]
    for (let d = 0; d < rank; d++) uniforms.push({ name: `dim${d}`, type: 'u32' })
    p.strides.forEach((_, k) => {
      for (let d = 0; d < rank; d++) uniforms.push({ name: `st${k}_${d}`, type: 'u32' })
    })
    p.strides.forEach((_, k) => uniforms.push({ name: `off${k}`, type: 'u32' }))
    const outStrided = !isDirect(p, -1)
    if (outStrided) {
      for (let d = 0; d < rank; d++) uniforms.push({ name: `ost${d}`, type: 'u32' })
      uniforms.push({ name: 'ooff', type: 'u32' })
    }
    p.scalars.forEach((_, k) => uniforms.push({ name: `sc${k}`, type: p.compute }))
    const broadcast = p.strides.map((_, k) => k).filter((k) => !isDirect(p, k))
    const walkers = [...broadcast.map((k) => ({ v: `o${k}`, st: (d: number) => `u.st${k}_${d}`, init: `u.off${k}` }))]
    if (outStrided) walkers.push({ v: 'oo', st: (d) => `u.ost${d}`, init: 'u.ooff' })
    const lines: string[] = []
    // Each invocation computes PER_INVOCATION outputs, a workgroup's width apart (so every
    // round still reads and writes contiguously across the workgroup): software adapters pay
    // a fixed cost per invocation that a one-element body does not amortise.
    lines.push(`  for (var e = 0u; e < ${PER_INVOCATION}u; e++) {`, `  let i = (wg * ${PER_INVOCATION}u + e) * ${WG}u + lidx;`, '  if (i >= u.size) { return; }')
    if (walkers.length) {
      lines.push('  var rem = i;')
      for (const w of walkers) lines.push(`  var ${w.v} = ${w.init};`)
      for (let d = rank - 1; d >= 0; d--) {
        lines.push(`  { let c = rem % u.dim${d}; rem = rem / u.dim${d};${walkers.map((w) => ` ${w.v} += c * ${w.st(d)};`).join('')} }`)
      }
    }
    const args: string[] = []
    let t = 0
    let s = 0
    for (const kind of p.kinds) {
      if (kind === 't') {
        const k = t++
        args.push(`${p.compute}(in${k}[${broadcast.includes(k) ? `o${k}` : 'i'}])`)
      } else {
        args.push(`u.sc${s++}`)
      }
    }
    lines.push(`  out[${outStrided ? 'oo' : 'i'}] = ${p.outDtype}(${p.op.wgsl(args, p.compute)});`, '  }')
    return {
      inputs: p.inDtypes.map((dtype, k) => ({ name: `in${k}`, dtype })),
      outputs: [{ name: 'out', dtype: p.outDtype }],
      uniforms,
      workgroupSize: WG,
      module: WGSL_HELPERS,
      body: lines.join('\n'),
    }
  },
  uniforms: (p) =>
    movesQuads(p)
      ? [p.size, ...p.scalars]
      : [p.size, ...p.shape, ...p.strides.flat(), ...p.offsets, ...(isDirect(p, -1) ? [] : [...p.outRegion!.strides, p.outRegion!.offset]), ...p.scalars],
  workgroups: (p) => groupsFor(Math.ceil(itemsOf(p) / PER_INVOCATION), WG),
  cpu(p, inputs, outputs) {
    const out = outputs[0]!
    if (allDirect(p)) return elementwiseDirectCpu(p, inputs, out)
    const rank = p.shape.length
    // Walk every operand and the output region with an odometer over the output coordinate.
    const strides = [...p.strides, p.outRegion?.strides ?? contiguousStrides(p.shape)]
    const offsets = [...p.offsets, p.outRegion?.offset ?? 0]
    const last = strides.length - 1
    const args = new Array<number>(p.kinds.length)
    const coord = new Array<number>(rank).fill(0)
    for (let i = 0; i < p.size; i++) {
      let t = 0
      let s = 0
      for (let a = 0; a < p.kinds.length; a++) {
        if (p.kinds[a] === 't') {
          args[a] = toCompute((inputs[t]! as HostArray)[offsets[t]!]!, p.inDtypes[t]!, p.compute)
          t++
        } else {
          args[a] = p.scalars[s++]!
        }
      }
      out[offsets[last]!] = p.op.cpu(args, p.compute)
      for (let d = rank - 1; d >= 0; d--) {
        coord[d]!++
        for (let k = 0; k < offsets.length; k++) offsets[k]! += strides[k]![d]!
        if (coord[d]! < p.shape[d]!) break
        for (let k = 0; k < offsets.length; k++) offsets[k]! -= strides[k]![d]! * p.shape[d]!
        coord[d] = 0
      }
    }
  },
}

/** WGSL of `movesQuads` params: the op applied to each lane of vec4 loads, stored as a vec4. */
function quadShader(p: ElementwiseParams): ShaderSpec {
  const uniforms: ShaderSpec['uniforms'] = [{ name: 'size', type: 'u32' }]
  p.scalars.forEach((_, k) => uniforms.push({ name: `sc${k}`, type: p.compute }))
  const lane = (c: string) => {
    let t = 0
    let s = 0
    const args = p.kinds.map((kind) => (kind === 't' ? `${p.compute}(q${t++}.${c})` : `u.sc${s++}`))
    return `${p.outDtype}(${p.op.wgsl(args, p.compute)})`
  }
  return {
    inputs: p.inDtypes.map((dtype, k) => ({ name: `in${k}`, dtype, vec4: true })),
    outputs: [{ name: 'out', dtype: p.outDtype, vec4: true }],
    uniforms,
    workgroupSize: WG,
    module: WGSL_HELPERS,
    body: `  for (var e = 0u; e < ${PER_INVOCATION}u; e++) {
  let i = (wg * ${PER_INVOCATION}u + e) * ${WG}u + lidx;
  if (i >= u.size / 4u) { return; }
${p.inDtypes.map((_, k) => `  let q${k} = in${k}[i];`).join('\n')}
  out[i] = vec4<${p.outDtype}>(${['x', 'y', 'z', 'w'].map(lane).join(', ')});
  }`,
  }
}

/** The common case of the CPU path: every operand and the output addressed by the element index. */
function elementwiseDirectCpu(p: ElementwiseParams, inputs: readonly HostArray[], out: HostArray): void {
  const arity = p.kinds.length
  const sources: (HostArray | null)[] = []
  const dtypes: DType[] = []
  const constants: number[] = []
  let t = 0
  let s = 0
  for (const kind of p.kinds) {
    sources.push(kind === 't' ? inputs[t]! : null)
    dtypes.push(kind === 't' ? p.inDtypes[t]! : 'f32')
    constants.push(kind === 't' ? 0 : p.scalars[s++]!)
    if (kind === 't') t++
  }
  const args = constants.slice()
  for (let i = 0; i < p.size; i++) {
    for (let a = 0; a < arity; a++) {
      const src = sources[a]
      if (src) args[a] = toCompute(src[i]!, dtypes[a]!, p.compute)
    }
    out[i] = p.op.cpu(args, p.compute)
  }
}

/**
 * The CPU twin of WGSL's `compute(value)` on a loaded element: floats → integers saturate
 * and truncate (so -1.5 → u32 is 0, not 4294967295), i32 ↔ u32 reinterpret the bits.
 */
function toCompute(v: number, from: DType, to: ComputeType): number {
  if (to === 'f32' || from === to) return v
  if (from === 'f32' || from === 'f16') {
    if (Number.isNaN(v)) return 0
    return Math.trunc(to === 'i32' ? Math.min(Math.max(v, -2147483648), 2147483520) : Math.min(Math.max(v, 0), 4294967040))
  }
  return to === 'i32' ? v | 0 : v >>> 0
}

function contiguousStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length)
  let s = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s
    s *= shape[d]!
  }
  return out
}

/** Numerically safe helpers shared by formulas (`safe_tanh` comes from kernel.ts's table). */
const WGSL_HELPERS = `${ACTIVATION_GRAD_WGSL}
fn erf_approx(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return sign(x) * y;
}
fn pow_signed(a: f32, b: f32) -> f32 {
  // WGSL's pow is undefined for a < 0 and gives NaN for 0^0; match IEEE/PyTorch instead.
  if (b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a >= 0.0) { return m; }
  if (fract(b) != 0.0) { var nan_bits = 0x7fc00000u; return bitcast<f32>(nan_bits); }
  return select(m, -m, (i32(b) & 1) == 1);
}
`
