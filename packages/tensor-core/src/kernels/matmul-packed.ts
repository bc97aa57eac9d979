import type { Kernel } from '../kernel.js'
import {
  bIsBatched,
  denseBCpu,
  EPILOGUE_WGSL,
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
 * per texel (row kk of batch z at packed row z·k + kk), into an rgba32float texture or a
 * vec4 buffer, and each invocation then accumulates `rows` × `texels`·4 outputs in
 * registers, fully unrolled: A's `rows` rows are the same for the whole workgroup (uniform,
 * scalar loads), B arrives as `texels` texel loads per kk. Measured on lavapipe (2 cores):
 * the texture reads beat the vec4 buffer reads by ~1.7×; 8 rows × 4 texels beat 4×4, 8×2,
 * 16×2 and 4×8, while 16×4 matched it at several times the compile time.
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

const PACK_WG = 64

/** Texels across and rows down of packed B. */
export function packedBSize(p: MatmulParams): { width: number; height: number } {
  return { width: Math.max(1, Math.ceil(p.n / 4)), height: Math.max(1, (bIsBatched(p) ? p.batch : 1) * p.k) }
}

/**
 * Packs op(B) (a matrix, transposed or not, or an image's column matrix) into the layout
 * above; columns past n are zero. The CPU twin writes the same floats.
 */
export function packBKernel(target: PackedShape['packedIn']): Kernel<MatmulParams> {
  return {
    name: `matmul.packB.${target}`,
    key: (p) => `${p.dtype}|${+p.transB}|${p.im2col ? 'im2col' : 'mat'}`,
    shader: (p) => ({
      inputs: [{ name: 'b', dtype: p.dtype }],
      outputs: [target === 'texture' ? { name: 'bt', dtype: 'f32', texture: true } : { name: 'bt', dtype: 'f32', vec4: true }],
      uniforms: [...matmulUniformDecls(p), { name: 'width', type: 'u32' }],
      workgroupSize: PACK_WG,
      module: loadB4Wgsl(p),
      // One workgroup row per packed row: z and kk are uniform, so their divisions are scalar.
      body: `
  let x = wid.x * ${PACK_WG}u + lidx;
  if (x >= u.width) { return; }
  let z = wid.y / u.k;
  let kk = wid.y - z * u.k;
  let v = loadB4(z, kk, x * 4u);
  ${target === 'texture' ? 'textureStore(bt, vec2<i32>(i32(x), i32(wid.y)), v);' : 'bt[wid.y * u.width + x] = v;'}`,
    }),
    uniforms: (p) => [...matmulUniforms(p), packedBSize(p).width],
    workgroups: (p) => {
      const { width, height } = packedBSize(p)
      return [Math.ceil(width / PACK_WG), height, 1]
    },
    cpu(p, [b], [bt]) {
      const { width, height } = packedBSize(p)
      const dense = denseBCpu(p, b!)
      for (let y = 0; y < height; y++) for (let col = 0; col < p.n; col++) bt![y * width * 4 + col] = dense[y * p.n + col]!
    },
  }
}

/** A is read four k at a time (one 16-byte load per row) when its rows are whole vec4s. */
export function readsAByVec4(p: MatmulParams): boolean {
  return !p.transA && p.k % 4 === 0
}

/** The packed-B matmul for one register-block shape; B must be packed by `packBKernel`. */
export function packedMatmulKernel(t: PackedShape): Kernel<MatmulParams> {
  const R = t.rows
  const C = t.texels
  const range = (n: number) => Array.from({ length: n }, (_, i) => i)
  return {
    name: `matmul.packed.${t.packedIn}.${R}x${C}.t${t.threads}`,
    key: (p) => `${matmulKey(p)}|${+readsAByVec4(p)}`,
    shader(p) {
      const a4 = readsAByVec4(p)
      const loadB = (c: number) => (t.packedIn === 'texture' ? `textureLoad(bt, vec2<i32>(i32(tx + ${c}u), y), 0)` : `bt[u32(y) * u.width + tx + ${c}u]`)
      // One k step: C texel loads of B, then R·C vec4 multiply-adds with A[row r, kk] = a_r.
      const step = (kk: string, aOf: (r: number) => string) =>
        [
          `    { let y = i32(ty0 + ${kk});`,
          ...range(C).map((c) => `    let b${c} = ${loadB(c)};`),
          ...range(R).flatMap((r) => range(C).map((c) => `    acc${r}_${c} += ${aOf(r)} * b${c};`)),
          '    }',
        ].join('\n')
      // Rows past m are clamped: read, never stored.
      const rowOf = (r: number) => `min(row0 + ${r}u, u.m - 1u)`
      const lines = (n: number, f: (i: number) => string) => range(n).map(f).join('\n')
      const loop = a4
        ? `${lines(R, (r) => `  let aRow${r} = (ab + ${rowOf(r)} * u.k) / 4u;`)}
  for (var k4 = 0u; k4 < u.k / 4u; k4++) {
${lines(R, (r) => `    let a${r} = vec4<f32>(a[aRow${r} + k4]);`)}
${lines(4, (j) => step(`k4 * 4u + ${j}u`, (r) => `a${r}[${j}]`))}
  }`
        : `${lines(R, (r) => `  let aRow${r} = ab + ${rowOf(r)}${p.transA ? '' : ' * u.k'};`)}
  for (var kk = 0u; kk < u.k; kk++) {
${lines(R, (r) => `    let a${r} = f32(a[aRow${r} + kk${p.transA ? ' * u.m' : ''}]);`)}
${step('kk', (r) => `a${r}`)}
  }`
      const stores = range(R).flatMap((r) => [
        `  if (row0 + ${r}u < u.m) {`,
        `    let row = row0 + ${r}u;`,
        ...range(C).flatMap((c) =>
          range(4).map((e) => `    { let col = (tx + ${c}u) * 4u + ${e}u; if (col < u.n) { ${matmulStoreWgsl(p, `acc${r}_${c}[${e}]`, 'row', 'col')} } }`)
        ),
        '  }',
      ])
      const bindings = matmulBindings(p, t.packedIn === 'texture' ? { name: 'bt', dtype: 'f32', texture: true } : { name: 'bt', dtype: 'f32', vec4: true })
      if (a4) bindings.inputs[0] = { ...bindings.inputs[0]!, vec4: true }
      return {
        ...bindings,
        uniforms: [...matmulUniformDecls(p), { name: 'packedRowsPerBatch', type: 'u32' }, { name: 'width', type: 'u32' }],
        workgroupSize: t.threads,
        module: EPILOGUE_WGSL,
        body: `
  let z = wid.z;
  let row0 = wid.y * ${R}u;
  let tx = (wid.x * ${t.threads}u + lidx) * ${C}u;
  let ab = z * u.aBatch;
  let ty0 = z * u.packedRowsPerBatch;
${range(R)
  .flatMap((r) => range(C).map((c) => `  var acc${r}_${c} = vec4<f32>(0.0);`))
  .join('\n')}
${loop}
${stores.join('\n')}`,
      }
    },
    uniforms: (p) => [...matmulUniforms(p), bIsBatched(p) ? p.k : 0, packedBSize(p).width],
    workgroups: (p) => [Math.ceil(Math.ceil(p.n / 4) / (t.threads * C)), Math.ceil(p.m / R), p.batch],
    cpu(p, [a, bt, bias], [out]) {
      // bt holds packed B: rows of width·4 floats, zero past n.
      const width = packedBSize(p).width * 4
      const rows = bIsBatched(p) ? p.batch * p.k : p.k
      const dense = new Float32Array(rows * p.n)
      for (let y = 0; y < rows; y++) for (let j = 0; j < p.n; j++) dense[y * p.n + j] = bt![y * width + j]!
      matmulCpu(
        {
          ...p,
          im2col: undefined,
          transB: false,
          bBatchStride: bIsBatched(p) ? p.k * p.n : 0,
        },
        a!,
        dense,
        p.bias !== 'none' ? bias : undefined,
        out!
      )
    },
  }
}
