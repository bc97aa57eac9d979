import type { DType } from '../dtype.js'
import type { Kernel, ShaderSpec } from '../kernel.js'
import { activationCpu as activations, activationWgsl } from './activations.js'
import { GEOMETRY_UNIFORM_DECLS, geometryUniforms, im2colCpu, im2colLoad4Wgsl, im2colLoadWgsl, type ConvGeometry } from './im2col.js'

export type Activation = 'none' | 'relu' | 'gelu' | 'quickGelu'

/**
 * C[b] = act(op(A[b]) · op(B[b]) + bias), op = optional transpose. A batch stride of 0
 * broadcasts that operand over the batch.
 */
export interface MatmulParams {
  dtype: DType
  batch: number
  m: number
  n: number
  k: number
  transA: boolean
  transB: boolean
  aBatchStride: number
  bBatchStride: number
  /** Bias indexed by output column ([n], as a linear layer) or by row ([m], as conv channels). */
  bias: 'none' | 'col' | 'row'
  activation: Activation
  /**
   * B is not stored: it is the column matrix of the NCHW image bound as `b`, gathered on the
   * fly (implicit-GEMM convolution; batch = images, k = cin·kh·kw, n = output pixels).
   */
  im2col?: ConvGeometry
  /**
   * Run the batch as one product over batch·n columns (column j: batch j div n, column j
   * mod n) rather than a grid layer per batch, so a small per-batch n (a convolution's 64
   * pixels at 8×8) still fills whole tiles. The result is the same; it needs A shared
   * (aBatchStride 0) and n a multiple of 4, so that a packed texel's 4 columns lie in one
   * batch (`canFoldBatch`).
   */
  foldBatch?: boolean
}

export function canFoldBatch(p: MatmulParams): boolean {
  return p.batch > 1 && p.aBatchStride === 0 && p.n % 4 === 0
}

/** Output columns the launch grid covers: batch·n when the batch is folded into them. */
export const gridColumns = (p: MatmulParams) => (p.foldBatch ? p.batch * p.n : p.n)
/** Grid layers along z: one per batch, or one in all when the batch is folded into the columns. */
export const gridBatches = (p: MatmulParams) => (p.foldBatch ? 1 : p.batch)

/**
 * WGSL statements splitting global column `global` of a folded launch into batch `z` and
 * column `col` (for an unfolded launch, z is the grid layer and col the global column), then
 * running `then` when the column is a real one.
 */
export function forColumnWgsl(p: MatmulParams, global: string, then: string): string {
  return p.foldBatch
    ? `{ let foldedCol = ${global}; let z = foldedCol / u.n; if (z < u.batch) { let col = foldedCol - z * u.n; ${then} } }`
    : `{ let col = ${global}; if (col < u.n) { ${then} } }`
}

/** The fused epilogue activation, in WGSL and on the CPU (kernels/activations.ts). */
export const ACTIVATION_WGSL: Record<Activation, (x: string) => string> = { none: (x) => x, ...activationWgsl }

const ACTIVATION_CPU: Record<Activation, (x: number) => number> = { none: (x) => x, relu: activations.relu, gelu: activations.gelu, quickGelu: activations.quickGelu }

/** Rows of B as a variant sees it: one [k, n] matrix per batch, or one shared by all. */
export function bIsBatched(p: MatmulParams): boolean {
  return !!p.im2col || p.bBatchStride !== 0
}

/**
 * `batches` dense row-major [rows, cols] matrices copied from `src` (batch z at z·batchStride),
 * which holds each one row-major, or transposed ([cols, rows]) when `transposed`.
 */
function denseCopy(src: ArrayLike<number>, batches: number, batchStride: number, rows: number, cols: number, transposed: boolean): Float32Array {
  const out = new Float32Array(batches * rows * cols)
  for (let z = 0; z < batches; z++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[(z * rows + r) * cols + c] = src[z * batchStride + (transposed ? c * rows + r : r * cols + c)]!
  return out
}

/** op(B) as dense row-major [k, n] matrices, one per batch when B is batched, else one. */
export function denseBCpu(p: MatmulParams, b: ArrayLike<number>): Float32Array {
  if (!p.im2col) return denseCopy(b, bIsBatched(p) ? p.batch : 1, p.bBatchStride, p.k, p.n, p.transB)
  const out = new Float32Array(p.batch * p.k * p.n)
  im2colCpu(p.im2col, b, out)
  return out
}

/** Maps an output's f64 sum to what is stored (bias, activation); null when it is stored as is. */
type Epilogue = ((sum: number, i: number, j: number) => number) | null

/**
 * Reference matmul shared by every matmul variant's CPU path, and the CPU backend's matmul:
 * each output sums its k products in order, in f64. Transposed operands and image patches
 * are first copied to dense row-major matrices, then `denseMatmulCpu` runs per batch.
 */
export function matmulCpu(
  p: MatmulParams,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  out: { [i: number]: number },
): void {
  const { m, n, k } = p
  const aDense = p.transA ? denseCopy(a, p.aBatchStride !== 0 ? p.batch : 1, p.aBatchStride, m, k, true) : a
  const aStride = p.transA ? (p.aBatchStride !== 0 ? m * k : 0) : p.aBatchStride
  const bDense = p.transB || p.im2col ? denseBCpu(p, b) : b
  const bStride = p.transB || p.im2col ? (bIsBatched(p) ? k * n : 0) : p.bBatchStride
  const epilogue: Epilogue =
    p.activation === 'none' && p.bias === 'none' ? null : (sum, i, j) => ACTIVATION_CPU[p.activation](sum + (bias ? bias[p.bias === 'row' ? i : j]! : 0))
  for (let z = 0; z < p.batch; z++) denseMatmulCpu(m, n, k, aDense, z * aStride, bDense, z * bStride, out, z * m * n, epilogue)
}

/**
 * out[m, n] = A[m, k] · B[k, n], all dense row-major at the given offsets. Outputs are
 * computed in 4×4 register blocks (16 running sums, each A and B value loaded once per block
 * and k step), which runs about twice as fast in V8 as streaming rows of sums through memory;
 * the ragged edge rows and columns are plain dot products. Same f64 sums either way.
 */
function denseMatmulCpu(
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  out: { [i: number]: number },
  outOff: number,
  epilogue: Epilogue,
): void {
  const store = (i: number, j: number, sum: number) => {
    out[outOff + i * n + j] = epilogue ? epilogue(sum, i, j) : sum
  }
  const m4 = m - (m % 4)
  const n4 = n - (n % 4)
  for (let i0 = 0; i0 < m4; i0 += 4) {
    const r0 = aOff + i0 * k
    const r1 = r0 + k
    const r2 = r1 + k
    const r3 = r2 + k
    for (let j0 = 0; j0 < n4; j0 += 4) {
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0
      for (let kk = 0, bi = bOff + j0; kk < k; kk++, bi += n) {
        const b0 = b[bi]!,
          b1 = b[bi + 1]!,
          b2 = b[bi + 2]!,
          b3 = b[bi + 3]!
        const a0 = a[r0 + kk]!,
          a1 = a[r1 + kk]!,
          a2 = a[r2 + kk]!,
          a3 = a[r3 + kk]!
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c03 += a0 * b3
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c13 += a1 * b3
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
        c23 += a2 * b3
        c30 += a3 * b0
        c31 += a3 * b1
        c32 += a3 * b2
        c33 += a3 * b3
      }
      store(i0, j0, c00), store(i0, j0 + 1, c01), store(i0, j0 + 2, c02), store(i0, j0 + 3, c03)
      store(i0 + 1, j0, c10), store(i0 + 1, j0 + 1, c11), store(i0 + 1, j0 + 2, c12), store(i0 + 1, j0 + 3, c13)
      store(i0 + 2, j0, c20), store(i0 + 2, j0 + 1, c21), store(i0 + 2, j0 + 2, c22), store(i0 + 2, j0 + 3, c23)
      store(i0 + 3, j0, c30), store(i0 + 3, j0 + 1, c31), store(i0 + 3, j0 + 2, c32), store(i0 + 3, j0 + 3, c33)
    }
  }
  const dot = (i: number, j: number) => {
    let sum = 0
    for (let kk = 0, ai = aOff + i * k, bi = bOff + j; kk < k; kk++, bi += n) sum += a[ai + kk]! * b[bi]!
    store(i, j, sum)
  }
  for (let i = 0; i < m4; i++) for (let j = n4; j < n; j++) dot(i, j)
  for (let i = m4; i < m; i++) for (let j = 0; j < n; j++) dot(i, j)
}

/** The part of a matmul pipeline key every variant shares. */
export function matmulKey(p: MatmulParams): string {
  return `${p.dtype}|${+p.transA}${+p.transB}|${p.bias}|${p.activation}|${p.im2col ? 'im2col' : 'mat'}${p.foldBatch ? '|fold' : ''}`
}

/** Uniforms every matmul variant declares (sizes, batch strides, conv geometry if any). */
export function matmulUniformDecls(p: MatmulParams): ShaderSpec['uniforms'] {
  return [
    { name: 'm', type: 'u32' },
    { name: 'n', type: 'u32' },
    { name: 'k', type: 'u32' },
    { name: 'aBatch', type: 'u32' },
    { name: 'bBatch', type: 'u32' },
    ...(p.im2col ? GEOMETRY_UNIFORM_DECLS : []),
    // A folded launch bounds its columns by the batch (the conv geometry already carries it).
    ...(p.foldBatch && !p.im2col ? [{ name: 'batch', type: 'u32' as const }] : []),
  ]
}

export function matmulUniforms(p: MatmulParams): number[] {
  return [p.m, p.n, p.k, p.aBatchStride, p.bBatchStride, ...(p.im2col ? geometryUniforms(p.im2col) : []), ...(p.foldBatch && !p.im2col ? [p.batch] : [])]
}

/**
 * WGSL `loadB(z, kk, col) -> f32`: element (kk, col) of op(B[z]) read from binding `b`, a
 * matrix or an image's column matrix (the caller keeps kk < k and col < n).
 */
export function loadBWgsl(p: MatmulParams): string {
  if (p.im2col) return `${im2colLoadWgsl('imagePatch', 'b')}
fn loadB(z: u32, kk: u32, col: u32) -> f32 { return imagePatch(z, kk, col); }`
  return `fn loadB(z: u32, kk: u32, col: u32) -> f32 { return f32(b[z * u.bBatch + ${p.transB ? 'col * u.k + kk' : 'kk * u.n + col'}]); }`
}

/** WGSL `loadB4(z, kk, col0) -> vec4<f32>`: elements (kk, col0..col0+3) of op(B[z]), 0 past n. */
export function loadB4Wgsl(p: MatmulParams): string {
  if (p.im2col) return `${im2colLoad4Wgsl('imagePatch4', 'b')}
fn loadB4(z: u32, kk: u32, col0: u32) -> vec4<f32> { return imagePatch4(z, kk, col0); }`
  const lane = (e: number) => `select(0.0, loadB(z, kk, min(col0 + ${e}u, u.n - 1u)), col0 + ${e}u < u.n)`
  return `${loadBWgsl(p)}
fn loadB4(z: u32, kk: u32, col0: u32) -> vec4<f32> { return vec4<f32>(${[0, 1, 2, 3].map(lane).join(', ')}); }`
}

/** WGSL statement storing accumulator `v` (an f32 expression) at (z, row, col), bias and activation applied. */
export function matmulStoreWgsl(p: MatmulParams, v: string, row: string, col: string): string {
  const biased = p.bias === 'none' ? v : `${v} + f32(bias[${p.bias === 'row' ? row : col}])`
  return `c[z * u.m * u.n + ${row} * u.n + ${col}] = ${p.dtype}(${ACTIVATION_WGSL[p.activation](`(${biased})`)});`
}

export function matmulBindings(p: MatmulParams, b: ShaderSpec['inputs'][number]): Pick<ShaderSpec, 'inputs' | 'outputs'> {
  return {
    inputs: [{ name: 'a', dtype: p.dtype }, b, ...(p.bias !== 'none' ? [{ name: 'bias', dtype: p.dtype }] : [])],
    outputs: [{ name: 'c', dtype: p.dtype }],
  }
}

/**
 * Workgroup-memory tiling for GPUs: a workgroup stages a tileK-deep slice of A and B in
 * workgroup memory and each invocation accumulates a threadM×threadN block of the tile.
 */
export interface TiledShape {
  /** Invocations per workgroup along n and m. */
  threadsN: number
  threadsM: number
  /** Outputs per invocation along m and n. */
  threadM: number
  threadN: number
  tileK: number
}

export function tiledMatmulKernel(t: TiledShape): Kernel<MatmulParams> {
  const tileM = t.threadsM * t.threadM
  const tileN = t.threadsN * t.threadN
  const threads = t.threadsM * t.threadsN
  return {
    name: `matmul.tiled.${t.threadsN}x${t.threadsM}.${t.threadM}x${t.threadN}.k${t.tileK}`,
    key: matmulKey,
    shader(p) {
      const aIndex = p.transA ? 'ab + kk * u.m + row' : 'ab + row * u.k + kk'
      return {
        ...matmulBindings(p, { name: 'b', dtype: p.dtype }),
        uniforms: matmulUniformDecls(p),
        workgroupSize: [t.threadsN, t.threadsM, 1],
        module: `${loadBWgsl(p)}
var<workgroup> tileA: array<array<f32, ${tileM}>, ${t.tileK}>;
var<workgroup> tileB: array<array<f32, ${tileN}>, ${t.tileK}>;`,
        body: `
  let z = wid.z;
  let tileRow = wid.y * ${tileM}u;
  let tileCol = wid.x * ${tileN}u;
  let ab = z * u.aBatch;
  var acc: array<array<f32, ${t.threadN}>, ${t.threadM}>;
  for (var k0 = 0u; k0 < u.k; k0 += ${t.tileK}u) {
    for (var l = lidx; l < ${t.tileK * tileM}u; l += ${threads}u) {
      let kk = k0 + l / ${tileM}u;
      let row = tileRow + l % ${tileM}u;
      tileA[l / ${tileM}u][l % ${tileM}u] = select(0.0, f32(a[${aIndex}]), kk < u.k && row < u.m);
    }
    for (var l = lidx; l < ${t.tileK * tileN}u; l += ${threads}u) {
      let kk = k0 + l / ${tileN}u;
      var v = 0.0;
      if (kk < u.k) ${forColumnWgsl(p, `tileCol + l % ${tileN}u`, 'v = loadB(z, kk, col);')}
      tileB[l / ${tileN}u][l % ${tileN}u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.tileK}u; kk++) {
      var av: array<f32, ${t.threadM}>;
      var bv: array<f32, ${t.threadN}>;
      for (var i = 0u; i < ${t.threadM}u; i++) { av[i] = tileA[kk][lid.y * ${t.threadM}u + i]; }
      for (var j = 0u; j < ${t.threadN}u; j++) { bv[j] = tileB[kk][lid.x * ${t.threadN}u + j]; }
      for (var i = 0u; i < ${t.threadM}u; i++) { for (var j = 0u; j < ${t.threadN}u; j++) { acc[i][j] += av[i] * bv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${t.threadM}u; i++) {
    let row = tileRow + lid.y * ${t.threadM}u + i;
    if (row >= u.m) { continue; }
    for (var j = 0u; j < ${t.threadN}u; j++) {
      ${forColumnWgsl(p, `tileCol + lid.x * ${t.threadN}u + j`, matmulStoreWgsl(p, 'acc[i][j]', 'row', 'col'))}
    }
  }`,
      }
    },
    uniforms: matmulUniforms,
    workgroups: (p) => [Math.ceil(gridColumns(p) / tileN), Math.ceil(p.m / tileM), gridBatches(p)],
    cpu(p, [a, b, bias], [out]) {
      matmulCpu(p, a!, b!, p.bias !== 'none' ? bias : undefined, out!)
    },
  }
}
