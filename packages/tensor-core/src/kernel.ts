import type { DType, HostArray } from './dtype.js'
import { ShapeError, type TesseraError } from './errors.js'

/**
 * A kernel is data: how to name and key its pipeline, how to generate its WGSL, how many
 * workgroups to launch, which sizes travel as uniforms, and a plain-TypeScript reference
 * (`cpu`) that the CPU backend runs and every WGSL variant is tested against.
 *
 * `P` is the kernel's parameter record (shapes, dtypes, flags). `key(p)` must capture every
 * compile-time choice the WGSL depends on (dtypes, ranks, flags, tile variants) and nothing
 * that only changes sizes: sizes go in `uniforms(p)`, so a growing sequence length reuses the
 * compiled pipeline.
 */
export interface Kernel<P> {
  readonly name: string
  key(p: P): string
  shader(p: P): ShaderSpec
  /** Uniform values, in the order of `shader(p).uniforms`. */
  uniforms(p: P): number[]
  /** A number launches a 1-D grid of workgroups (folded into y/z past the per-dimension limit). */
  workgroups(p: P): number | readonly [number, number, number]
  cpu(p: P, inputs: HostArray[], outputs: HostArray[]): void
}

export type UniformType = 'u32' | 'i32' | 'f32'

export interface BufferBinding {
  name: string
  dtype: DType
  /** Outputs may be read too (accumulating kernels); inputs are always read-only. */
  /**
   * A 2-D rgba32float texture (from `Backend.allocTexture`) instead of a buffer: an input is
   * read with `textureLoad(name, coord, 0)`, an output written with `textureStore`. Software
   * adapters vectorise texel loads across invocations where per-invocation buffer loads
   * become scalar loops. On the CPU backend a texture is a Float32Array of w·h·4 (row-major
   * texels), so a kernel's `cpu` reads it like any array.
   */
  texture?: true
  /** Bind a buffer as `array<vec4<dtype>>`: one 16-byte load per element. */
  vec4?: true
}

/** What a kernel's WGSL needs; `emitWgsl` turns it into a module with consistent bindings. */
export interface ShaderSpec {
  inputs: BufferBinding[]
  outputs: BufferBinding[]
  uniforms: { name: string; type: UniformType }[]
  workgroupSize: number | readonly [number, number, number]
  /** Module-scope WGSL (helper functions, workgroup arrays, constants). */
  module?: string
  /**
   * Body of `main`. In scope: `u` (uniforms), every binding by name, `lid`, `wid` (the raw
   * workgroup id), `nwg`, and `wg`: the linear workgroup index, unfolded, for 1-D grids.
   */
  body: string
  /**
   * The kernel reports bad values (see KERNEL_FAULTS) with `report_fault(kind, a, b, c)`: the
   * backend binds its fault buffer after the outputs and throws the first fault at the next read.
   */
  faults?: true
}

/**
 * Bad values a kernel meets at run time, e.g. an id outside its table. The CPU reference
 * throws `faultError(kind, …)` on the spot; WGSL cannot throw, so a kernel with `faults`
 * records the first one in the device's fault buffer and the WebGPU backend throws the same
 * error from the next `read`. Both backends thus give one typed error with one message.
 */
export const KERNEL_FAULTS = {
  /** An index outside [0, b) (embedding, gather, scatter, oneHot): a = the index, b = the size. */
  index: 1,
  /** A cross-entropy target outside [0, b) that is not the ignore index c. */
  crossEntropyTarget: 2,
} as const

export type KernelFault = (typeof KERNEL_FAULTS)[keyof typeof KERNEL_FAULTS]

/** The error of a fault, the same on both backends. */
export function faultError(kind: number, a: number, b: number, c: number): TesseraError {
  switch (kind) {
    case KERNEL_FAULTS.index:
      return new ShapeError(`index ${a} is out of range [0, ${b})`)
    case KERNEL_FAULTS.crossEntropyTarget:
      return new ShapeError(`crossEntropy: target ${a} is out of range [0, ${b}) and is not the ignore index ${c}`)
    default:
      return new ShapeError(`a kernel reported fault ${kind} (${a}, ${b}, ${c})`)
  }
}

/** Words of the fault buffer: count, kind, a, b, c (padded to 8). */
export const FAULT_WORDS = 8

const FAULT_WGSL = (binding: number) => `@group(0) @binding(${binding}) var<storage, read_write> tessera_faults: array<atomic<u32>, ${FAULT_WORDS}>;
fn report_fault(kind: u32, a: i32, b: i32, c: i32) {
  if (atomicAdd(&tessera_faults[0], 1u) == 0u) {
    atomicStore(&tessera_faults[1], kind);
    atomicStore(&tessera_faults[2], bitcast<u32>(a));
    atomicStore(&tessera_faults[3], bitcast<u32>(b));
    atomicStore(&tessera_faults[4], bitcast<u32>(c));
  }
}`

/**
 * WGSL helpers any kernel may call; `emitWgsl` adds the ones a module uses (and what they
 * use). NaN is tested on the bits: WGSL lets implementations assume floats are never NaN, so
 * `x != x` and `max`/`min`/`clamp` of a NaN are not reliable (lavapipe's `max(NaN, 0)` is 0).
 * The `nan_*` forms follow PyTorch: a NaN operand gives NaN.
 */
const WGSL_HELPERS: { name: string; code: string; uses: string[] }[] = [
  // tanh that stays finite for large |x| (lavapipe's tanh overflows to NaN past ~44).
  { name: 'safe_tanh', code: 'fn safe_tanh(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }', uses: [] },
  { name: 'tessera_is_nan', code: 'fn tessera_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }', uses: [] },
  { name: 'nan_max', code: 'fn nan_max(a: f32, b: f32) -> f32 { return select(select(max(a, b), b, tessera_is_nan(b)), a, tessera_is_nan(a)); }', uses: ['tessera_is_nan'] },
  { name: 'nan_min', code: 'fn nan_min(a: f32, b: f32) -> f32 { return select(select(min(a, b), b, tessera_is_nan(b)), a, tessera_is_nan(a)); }', uses: ['tessera_is_nan'] },
]

function helpersFor(source: string): string[] {
  const wanted = new Set<string>()
  const want = (name: string) => {
    if (wanted.has(name)) return
    for (const dep of WGSL_HELPERS.find((h) => h.name === name)!.uses) want(dep)
    wanted.add(name)
  }
  for (const h of WGSL_HELPERS) if (new RegExp(`\\b${h.name}\\(`).test(source)) want(h.name)
  return WGSL_HELPERS.filter((h) => wanted.has(h.name)).map((h) => h.code)
}

/** Binding 0 is the uniform block (dynamic offset); inputs then outputs follow in order. */
export function emitWgsl(spec: ShaderSpec): string {
  const usesF16 = [...spec.inputs, ...spec.outputs].some((b) => b.dtype === 'f16')
  const lines: string[] = []
  if (usesF16 || spec.module?.includes('f16') || spec.body.includes('f16')) lines.push('enable f16;')
  const uniformFields = spec.uniforms.length ? spec.uniforms : [{ name: '_pad', type: 'u32' as const }]
  lines.push(`struct Uniforms { ${uniformFields.map((f) => `${f.name}: ${f.type},`).join(' ')} }`)
  lines.push('@group(0) @binding(0) var<uniform> u: Uniforms;')
  let binding = 1
  for (const b of spec.inputs) {
    const type = b.texture ? 'texture_2d<f32>' : `array<${b.vec4 ? `vec4<${b.dtype}>` : b.dtype}>`
    lines.push(`@group(0) @binding(${binding++}) var${b.texture ? '' : '<storage, read>'} ${b.name}: ${type};`)
  }
  for (const b of spec.outputs) {
    const decl = b.texture
      ? `var ${b.name}: texture_storage_2d<rgba32float, write>`
      : `var<storage, read_write> ${b.name}: array<${b.vec4 ? `vec4<${b.dtype}>` : b.dtype}>`
    lines.push(`@group(0) @binding(${binding++}) ${decl};`)
  }
  if (spec.faults) lines.push(FAULT_WGSL(binding))
  lines.push(...helpersFor(`${spec.module ?? ''}\n${spec.body}`))
  if (spec.module) lines.push(spec.module)
  const ws = typeof spec.workgroupSize === 'number' ? [spec.workgroupSize, 1, 1] : spec.workgroupSize
  lines.push(`@compute @workgroup_size(${ws.join(', ')})
fn main(@builtin(local_invocation_index) lidx: u32, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wg = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
${spec.body}
}`)
  return lines.join('\n')
}

/** Number of workgroups to cover `n` items with `perGroup` items each. */
export function groupsFor(n: number, perGroup: number): number {
  return Math.ceil(n / perGroup)
}
