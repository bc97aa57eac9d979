import type { HostArray } from '../dtype.js'
import type { BufferBinding, Kernel } from '../kernel.js'
import { workgroupReduceWgsl } from './workgroup-reduce.js'

/**
 * Kernels over a list of tensors in one dispatch (PyTorch's `_foreach_*` ops). A model's
 * optimizer step touches ~100 parameters; one dispatch per parameter per op made clipping and
 * AdamW half of a dVAE training step's ~1,300 dispatches, and on an H200 that step was bound by
 * the host side (GPU busy 38 %), not by the arithmetic. A foreach dispatch binds as
 * many tensors as the adapter's storage-buffer limit allows; its workgroups are split evenly
 * between them (`parts` each) and each workgroup strides over its tensor's elements.
 */
export const FOREACH_WG = 256
/** Workgroups per tensor at most; bigger tensors are strided over. */
const MAX_PARTS = 256

/**
 * Workgroups per tensor for tensors of these sizes: `perLane` elements per invocation, up to
 * MAX_PARTS workgroups. Reductions take many elements per lane: each workgroup ends in a tree
 * of barriers, which software adapters pay for per workgroup (at 1 element per lane, clipping + AdamW of emoji-32's
 * parameters took 41 ms on lavapipe, against 27 ms per tensor; at 32, 12 ms).
 */
export function foreachParts(sizes: readonly number[], perLane = 1): number {
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(Math.max(...sizes) / (FOREACH_WG * perLane))))
}

/** The element indices workgroup `part` of `parts` visits in a tensor of `size` elements, in order. */
export function* partIndices(size: number, part: number, parts: number): Generator<number> {
  for (let base = part * FOREACH_WG; base < size; base += parts * FOREACH_WG) {
    for (let i = base; i < Math.min(size, base + FOREACH_WG); i++) yield i
  }
}

/** WGSL: this workgroup's tensor (`which`), and `loop(t)` run for element `i` of tensor t by the invocations that own it. */
function switchOverTensors(count: number, loop: (t: number) => string): string {
  const cases = Array.from(
    { length: count },
    (_, t) => `    case ${t}u: {
      for (var i = part * ${FOREACH_WG}u + lidx; i < u.size${t}; i = i + u.parts * ${FOREACH_WG}u) {
${loop(t)}
      }
    }`,
  )
  return `  let which = wg / u.parts;
  let part = wg % u.parts;
  switch which {
${cases.join('\n')}
    default: {}
  }`
}

const sizeUniforms = (count: number) => [...Array.from({ length: count }, (_, t) => ({ name: `size${t}`, type: 'u32' as const })), { name: 'parts', type: 'u32' as const }]

export interface ForeachParams {
  /** Element count of each tensor of the dispatch. */
  sizes: number[]
  parts: number
  /** The kernel's scalar arguments, by name. */
  scalars: Record<string, number>
}

/**
 * An elementwise foreach kernel, described by its per-tensor roles and one element's update.
 * Bindings: `shared` inputs (whole buffers every tensor's update may read, e.g. a norm), then
 * each tensor's `inputs`, then each tensor's `outputs` (read-write); role r of tensor t is bound
 * as `r${t}`. `wgsl(b)` is the update of element `i`, with `b[role]` naming the bound array.
 */
export interface ForeachSpec {
  name: string
  shared: readonly string[]
  inputs: readonly string[]
  outputs: readonly string[]
  scalars: readonly string[]
  wgsl(b: Record<string, string>): string
  /** The same update on the CPU (f32 rounding mirrored with Math.fround). */
  cpu(i: number, a: Record<string, HostArray>, s: Record<string, number>): void
}

export function foreachKernel(spec: ForeachSpec): Kernel<ForeachParams> {
  const roles = (t: number) => Object.fromEntries([...spec.shared.map((r) => [r, r]), ...[...spec.inputs, ...spec.outputs].map((r) => [r, `${r}${t}`])])
  const bindings = (names: readonly string[], count: number): BufferBinding[] =>
    Array.from({ length: count }, (_, t) => names.map((r) => ({ name: `${r}${t}`, dtype: 'f32' as const }))).flat()
  return {
    name: `foreach.${spec.name}`,
    key: (p) => String(p.sizes.length),
    shader: (p) => ({
      inputs: [...spec.shared.map((name) => ({ name, dtype: 'f32' as const })), ...bindings(spec.inputs, p.sizes.length)],
      outputs: bindings(spec.outputs, p.sizes.length),
      uniforms: [...sizeUniforms(p.sizes.length), ...spec.scalars.map((name) => ({ name, type: 'f32' as const }))],
      workgroupSize: FOREACH_WG,
      body: switchOverTensors(p.sizes.length, (t) => spec.wgsl(roles(t))),
    }),
    uniforms: (p) => [...p.sizes, p.parts, ...spec.scalars.map((name) => p.scalars[name]!)],
    workgroups: (p) => p.sizes.length * p.parts,
    cpu(p, inputs, outputs) {
      const shared = spec.shared.length
      const perIn = spec.inputs.length
      const perOut = spec.outputs.length
      p.sizes.forEach((size, t) => {
        const a: Record<string, HostArray> = {}
        spec.shared.forEach((r, j) => (a[r] = inputs[j]!))
        spec.inputs.forEach((r, j) => (a[r] = inputs[shared + t * perIn + j]!))
        spec.outputs.forEach((r, j) => (a[r] = outputs[t * perOut + j]!))
        for (let i = 0; i < size; i++) spec.cpu(i, a, p.scalars)
      })
    },
  }
}

export interface SumSquaresParams {
  sizes: number[]
  parts: number
  /** First slot of `partials` this dispatch writes (one per workgroup). */
  outOffset: number
}

/** Elements each invocation of `sumSquaresKernel` sums before the workgroup's tree (see foreachParts). */
export const SUM_SQUARES_PER_LANE = 32

/**
 * Partial sums of squares of a list of tensors: workgroup w writes the sum over the elements
 * it visits to partials[outOffset + w]; a plain sum of the partials then gives Σ‖x‖² of all.
 */
export const sumSquaresKernel: Kernel<SumSquaresParams> = {
  name: 'foreach.sumSquares',
  key: (p) => String(p.sizes.length),
  shader: (p) => ({
    inputs: Array.from({ length: p.sizes.length }, (_, t) => ({ name: `x${t}`, dtype: 'f32' as const })),
    outputs: [{ name: 'partials', dtype: 'f32' }],
    uniforms: [...sizeUniforms(p.sizes.length), { name: 'outOffset', type: 'u32' }],
    workgroupSize: FOREACH_WG,
    module: workgroupReduceWgsl(FOREACH_WG),
    body: `  var acc = 0.0;
${switchOverTensors(p.sizes.length, (t) => `        let x = x${t}[i];\n        acc = acc + x * x;`)}
  let total = wg_sum(acc, lidx);
  if (lidx == 0u) { partials[u.outOffset + wg] = total; }`,
  }),
  uniforms: (p) => [...p.sizes, p.parts, p.outOffset],
  workgroups: (p) => p.sizes.length * p.parts,
  cpu(p, inputs, [partials]) {
    const f = Math.fround
    p.sizes.forEach((size, t) => {
      const x = inputs[t]!
      for (let part = 0; part < p.parts; part++) {
        let acc = 0
        for (const i of partIndices(size, part, p.parts)) acc = f(acc + f(x[i]! * x[i]!))
        partials![p.outOffset + t * p.parts + part] = acc
      }
    })
  },
}
