import type { Kernel } from '../kernel.js'
import {
  bIsBatched,
  denseBCpu,
  forColumnWgsl,
  gridBatches,
  gridColumns,
  loadB4Wgsl,
  matmulBindings,
  matmulCpu,
  matmulKey,
  matmulStoreWgsl,
  matmulUniformDecls,
  matmulUniforms,
  type MatmulParams,
} from './matmul.js'

/**
 * Matmul for software adapters (lavapipe). Its JIT runs an invocation per SIMD lane, so a
 * storage-buffer load at a per-lane address becomes a scalar loop while a texel load stays
 * one vector gather; workgroup memory only adds copies. So op(B) is first packed, 4 columns
 * per texel, into an rgba32float texture or a vec4 buffer, and each invocation then
 * accumulates `rows` × `texels`·4 outputs in registers, fully unrolled: A's `rows` rows are
 * the same for the whole workgroup (uniform, scalar loads), B arrives as `texels` texel loads
 * per kk. Measured on lavapipe (2 cores): the texture reads beat the vec4 buffer reads by
 * ~1.7×; 8 rows × 4 texels beat 4×4, 8×2, 16×2 and 4×8, while 16×4 matched it at several
 * times the compile time.
 */
export interface PackedShape {
  /** Output rows per workgroup (and per invocation). */
  rows: number
  /** Texels (4 output columns each) per invocation. */
  texels: number
  /** Invocations per workgroup, side by side along n. */
  threads: number
  /** Where packed B lives: a texture (textureLoad) or a storage buffer of vec4 (one load per texel). */
  packedIn: 'texture' | 'buffer'
}

/**
 * Packed row y (= z·k + kk for batched B) is `width` texels; rows are stacked in panels of
 * `panelRows`, panel q placed right of panel q-1, so batch·k may exceed the texture height
 * limit: row y lives at texel row y mod panelRows, texel column (y div panelRows)·width + x.
 * A buffer holds the same image row by row.
 */
export interface PackedParams extends MatmulParams {
  panelRows: number
}

export interface PackedLayout {
  /** Texels per packed row: ceil(n / 4), or batch·n / 4 when the batch is folded into the columns. */
  width: number
  /** Packed rows: k per batch, or k when B is shared or the batch folded. */
  rows: number
  panelRows: number
  panels: number
}

/** B is packed as one [k, n] block per batch (batched and not folded into the columns). */
const packsPerBatch = (p: MatmulParams) => bIsBatched(p) && !p.foldBatch

export function packedLayout(p: PackedParams): PackedLayout {
  const width = Math.max(1, Math.ceil(gridColumns(p) / 4))
  const rows = Math.max(1, (packsPerBatch(p) ? p.batch : 1) * p.k)
  return { width, rows, panelRows: p.panelRows, panels: Math.ceil(rows / p.panelRows) }
}

/**
 * Everything the packed image of B depends on besides B's contents — never A, m, the bias or
 * the activation — so a pack of an unchanged B is reused under this key (`Backend.derived`)
 * by every product that packs it the same way: decode steps (m = the batch) and a prefill
 * (m = the prompt's positions) share one pack of each weight.
 */
export function packedBKey(target: PackedShape['packedIn'], p: PackedParams): string {
  const l = packedLayout(p)
  const batched = p.foldBatch || bIsBatched(p) ? `|batch ${p.batch} stride ${p.bBatchStride}` : ''
  return `${target}|${p.dtype}|${p.transB ? 'Bt' : 'B'}|${p.im2col ? JSON.stringify(p.im2col) : 'mat'}${p.foldBatch ? '|fold' : ''}${batched}|k ${p.k} n ${p.n}|${l.width}×${l.rows} in ${l.panelRows}-row panels`
}

/** Texels across and down of the packed image. */
export function packedImageSize(p: PackedParams): { width: number; height: number } {
  const l = packedLayout(p)
  return { width: l.width * l.panels, height: l.panelRows }
}

/** WebGPU's guaranteed minimum of maxComputeWorkgroupsPerDimension: the pack grid folds rows past it into z. */
const MAX_GROUPS = 65535
const PACK_WG = 64

const layoutUniformDecls = [
  { name: 'width', type: 'u32' },
  { name: 'packedRows', type: 'u32' },
  { name: 'panelRows', type: 'u32' },
  { name: 'imageWidth', type: 'u32' },
] as const

function layoutUniforms(p: PackedParams): number[] {
  const l = packedLayout(p)
  return [l.width, l.rows, l.panelRows, l.width * l.panels]
}

/** Float offset of texel x of packed row y in the CPU image (rows of imageWidth texels). */
function texelOffset(l: PackedLayout, y: number, x: number): number {
  return ((y % l.panelRows) * l.width * l.panels + Math.floor(y / l.panelRows) * l.width + x) * 4
}

/**
 * Calls `visit(denseIndex, packedIndex)` for every element of op(B) as dense [k, n] blocks
 * (one per batch when B is batched) and its float in the packed CPU image: the mapping both
 * CPU twins, packing and unpacking, walk.
 */
function forEachPackedElement(p: PackedParams, visit: (denseIndex: number, packedIndex: number) => void): void {
  const l = packedLayout(p)
  const at = (y: number, col: number) => texelOffset(l, y, col >> 2) + (col & 3)
  for (let y = 0; y < l.rows; y++)
    for (let col = 0; col < p.n; col++)
      if (p.foldBatch) for (let z = 0; z < p.batch; z++) visit((z * p.k + y) * p.n + col, at(y, z * p.n + col))
      else visit(y * p.n + col, at(y, col))
}

/**
 * Packs op(B) (a matrix, transposed or not, or an image's column matrix) into the layout
 * above; columns past n are zero. The CPU twin writes the same floats.
 */
export function packBKernel(target: PackedShape['packedIn']): Kernel<PackedParams> {
  return {
    name: `matmul.packB.${target}`,
    key: (p) => `${p.dtype}|${+p.transB}|${p.im2col ? 'im2col' : 'mat'}${p.foldBatch ? '|fold' : ''}`,
    shader: (p) => ({
      inputs: [{ name: 'b', dtype: p.dtype }],
      outputs: [target === 'texture' ? { name: 'bt', dtype: 'f32', texture: true } : { name: 'bt', dtype: 'f32', vec4: true }],
      uniforms: [...matmulUniformDecls(p), ...layoutUniformDecls],
      workgroupSize: PACK_WG,
      module: loadB4Wgsl(p),
      // One workgroup row per packed row: y, z and kk are uniform, so their divisions are scalar.
      body: `
  let x = wid.x * ${PACK_WG}u + lidx;
  let y = wid.y + wid.z * ${MAX_GROUPS}u;
  if (x >= u.width || y >= u.packedRows) { return; }
  ${p.foldBatch
    ? `// Folded: row y is patch row y of every batch side by side; a texel's 4 columns share a batch.
  let z = (x * 4u) / u.n;
  var v = vec4<f32>(0.0);
  if (z < u.batch) { v = loadB4(z, y, x * 4u - z * u.n); }`
    : `let z = y / u.k;
  let v = loadB4(z, y - z * u.k, x * 4u);`}
  let panel = y / u.panelRows;
  let tx = panel * u.width + x;
  let ty = y - panel * u.panelRows;
  ${target === 'texture' ? 'textureStore(bt, vec2<i32>(i32(tx), i32(ty)), v);' : 'bt[ty * u.imageWidth + tx] = v;'}`,
    }),
    uniforms: (p) => [...matmulUniforms(p), ...layoutUniforms(p)],
    workgroups: (p) => {
      const { width, rows } = packedLayout(p)
      return [Math.ceil(width / PACK_WG), Math.min(rows, MAX_GROUPS), Math.ceil(rows / MAX_GROUPS)]
    },
    cpu(p, [b], [bt]) {
      const dense = denseBCpu(p, b!)
      forEachPackedElement(p, (d, t) => (bt![t] = dense[d]!))
    },
  }
}

/** A is read four k at a time (one 16-byte load per row) when its rows are whole vec4s. */
export function readsAByVec4(p: MatmulParams): boolean {
  return !p.transA && p.k % 4 === 0
}

/** The packed-B matmul for one register-block shape; B must be packed by `packBKernel`. */
export function packedMatmulKernel(t: PackedShape): Kernel<PackedParams> {
  const R = t.rows
  const C = t.texels
  const range = (n: number) => Array.from({ length: n }, (_, i) => i)
  const lines = (n: number, f: (i: number) => string) => range(n).map(f).join('\n')
  return {
    name: `matmul.packed.${t.packedIn}.${R}x${C}.t${t.threads}`,
    key: (p) => `${matmulKey(p)}|${+readsAByVec4(p)}`,
    shader(p) {
      const a4 = readsAByVec4(p)
      const loadB = (c: number) =>
        t.packedIn === 'texture' ? `textureLoad(bt, vec2<i32>(i32(px + ${c}u), i32(py)), 0)` : `bt[py * u.imageWidth + px + ${c}u]`
      // One k step: C texel loads of B, R·C vec4 multiply-adds with A[row r, kk] = a_r, then
      // on to the next packed row (py, pcol: its texel row and its panel's first column).
      const step = (aOf: (r: number) => string) => `    {
      let px = pcol + tx;
${lines(C, (c) => `      let b${c} = ${loadB(c)};`)}
${range(R)
  .flatMap((r) => range(C).map((c) => `      acc${r}_${c} += ${aOf(r)} * b${c};`))
  .join('\n')}
      py += 1u;
      if (py == u.panelRows) { py = 0u; pcol += u.width; }
    }`
      // Rows past m are clamped: read, never stored.
      const rowOf = (r: number) => `min(row0 + ${r}u, u.m - 1u)`
      const loop = a4
        ? `${lines(R, (r) => `  let aRow${r} = (ab + ${rowOf(r)} * u.k) / 4u;`)}
  for (var k4 = 0u; k4 < u.k / 4u; k4++) {
${lines(R, (r) => `    let a${r} = vec4<f32>(a[aRow${r} + k4]);`)}
${lines(4, (j) => step((r) => `a${r}[${j}]`))}
  }`
        : `${lines(R, (r) => `  let aRow${r} = ab + ${rowOf(r)}${p.transA ? '' : ' * u.k'};`)}
  for (var kk = 0u; kk < u.k; kk++) {
${lines(R, (r) => `    let a${r} = f32(a[aRow${r} + kk${p.transA ? ' * u.m' : ''}]);`)}
${step((r) => `a${r}`)}
  }`
      const store = (r: number, c: number, e: number) => `    ${forColumnWgsl(p, `(tx + ${c}u) * 4u + ${e}u`, matmulStoreWgsl(p, `acc${r}_${c}[${e}]`, 'row', 'col'))}`
      const stores = range(R).flatMap((r) => [
        `  if (row0 + ${r}u < u.m) {`,
        `    let row = row0 + ${r}u;`,
        ...range(C).flatMap((c) => range(4).map((e) => store(r, c, e))),
        '  }',
      ])
      const bindings = matmulBindings(p, t.packedIn === 'texture' ? { name: 'bt', dtype: 'f32', texture: true } : { name: 'bt', dtype: 'f32', vec4: true })
      if (a4) bindings.inputs[0] = { ...bindings.inputs[0]!, vec4: true }
      return {
        ...bindings,
        uniforms: [...matmulUniformDecls(p), ...layoutUniformDecls, { name: 'packedRowsPerBatch', type: 'u32' }],
        workgroupSize: t.threads,
        body: `
  let z = wid.z;
  let row0 = wid.y * ${R}u;
  let tx = (wid.x * ${t.threads}u + lidx) * ${C}u;
  let ab = z * u.aBatch;
  let y0 = z * u.packedRowsPerBatch;
  var py = y0 % u.panelRows;
  var pcol = (y0 / u.panelRows) * u.width;
${lines(R * C, (i) => `  var acc${Math.floor(i / C)}_${i % C} = vec4<f32>(0.0);`)}
${loop}
${stores.join('\n')}`,
      }
    },
    uniforms: (p) => [...matmulUniforms(p), ...layoutUniforms(p), packsPerBatch(p) ? p.k : 0],
    workgroups: (p) => [Math.ceil(Math.ceil(gridColumns(p) / 4) / (t.threads * C)), Math.ceil(p.m / R), gridBatches(p)],
    cpu(p, [a, bt, bias], [out]) {
      // Back to one dense [k, n] block per batch (or one shared), as matmulCpu reads B.
      const dense = new Float32Array((bIsBatched(p) ? p.batch : 1) * p.k * p.n)
      forEachPackedElement(p, (d, t) => (dense[d] = bt![t]!))
      const unpacked = { ...p, im2col: undefined, transB: false, bBatchStride: bIsBatched(p) ? p.k * p.n : 0 }
      matmulCpu(unpacked, a!, dense, p.bias !== 'none' ? bias : undefined, out!)
    },
  }
}
