import type { DType } from '../dtype.js'
import type { Kernel, ShaderSpec } from '../kernel.js'
import { GEOMETRY_UNIFORM_DECLS, geometryUniforms, im2colCpu, im2colLoad4Wgsl, im2colLoadWgsl, type ConvGeometry } from './conv.js'

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
}

export const ACTIVATION_WGSL: Record<Activation, (x: string) => string> = {
  none: (x) => x,
  relu: (x) => `max(${x}, 0.0)`,
  gelu: (x) => `0.5 * ${x} * (1.0 + tanh_safe(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x})))`,
  quickGelu: (x) => `${x} / (1.0 + exp(-1.702 * ${x}))`,
}

export function activationCpu(act: Activation, x: number): number {
  switch (act) {
    case 'relu':
      return Math.max(x, 0)
    case 'gelu':
      return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
    case 'quickGelu':
      return x / (1 + Math.exp(-1.702 * x))
    default:
      return x
  }
}

/** Rows of B as a variant sees it: one [k, n] matrix per batch, or one shared by all. */
export function bIsBatched(p: MatmulParams): boolean {
  return !!p.im2col || p.bBatchStride !== 0
}

/** op(B) as dense row-major [k, n] matrices, one per batch when B is batched, else one. */
export function denseBCpu(p: MatmulParams, b: ArrayLike<number>): Float32Array {
  const batches = bIsBatched(p) ? p.batch : 1
  const out = new Float32Array(batches * p.k * p.n)
  if (p.im2col) {
    im2colCpu(p.im2col, b, out)
    return out
  }
  for (let z = 0; z < batches; z++)
    for (let kk = 0; kk < p.k; kk++)
      for (let j = 0; j < p.n; j++) out[(z * p.k + kk) * p.n + j] = b[z * p.bBatchStride + (p.transB ? j * p.k + kk : kk * p.n + j)]!
  return out
}

/** Reference matmul shared by every matmul variant's CPU path. */
export function matmulCpu(p: MatmulParams, a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | undefined, out: { [i: number]: number }): void {
  if (p.im2col) return matmulCpu({ ...p, im2col: undefined, transB: false, bBatchStride: p.k * p.n }, a, denseBCpu(p, b), bias, out)
  const { m, n, k } = p
  const acc = new Float64Array(n)
  for (let z = 0; z < p.batch; z++) {
    const ab = z * p.aBatchStride
    const bb = z * p.bBatchStride
    for (let i = 0; i < m; i++) {
      acc.fill(0)
      for (let kk = 0; kk < k; kk++) {
        const av = a[ab + (p.transA ? kk * m + i : i * k + kk)]!
        if (av === 0) continue
        if (p.transB) for (let j = 0; j < n; j++) acc[j]! += av * b[bb + j * k + kk]!
        else {
          const row = bb + kk * n
          for (let j = 0; j < n; j++) acc[j]! += av * b[row + j]!
        }
      }
      const o = z * m * n + i * n
      for (let j = 0; j < n; j++) out[o + j] = activationCpu(p.activation, acc[j]! + (bias ? bias[p.bias === 'row' ? i : j]! : 0))
    }
  }
}

/** The part of a matmul pipeline key every variant shares. */
export function matmulKey(p: MatmulParams): string {
  return `${p.dtype}|${+p.transA}${+p.transB}|${p.bias}|${p.activation}|${p.im2col ? 'im2col' : 'mat'}`
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
  ]
}

export function matmulUniforms(p: MatmulParams): number[] {
  return [p.m, p.n, p.k, p.aBatchStride, p.bBatchStride, ...(p.im2col ? geometryUniforms(p.im2col) : [])]
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

/** Helpers the epilogue's activations use. */
export const EPILOGUE_WGSL = 'fn tanh_safe(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }'


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
${EPILOGUE_WGSL}
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
      let col = tileCol + l % ${tileN}u;
      var v = 0.0;
      if (kk < u.k && col < u.n) { v = loadB(z, kk, col); }
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
      let col = tileCol + lid.x * ${t.threadN}u + j;
      if (col >= u.n) { continue; }
      ${matmulStoreWgsl(p, 'acc[i][j]', 'row', 'col')}
    }
  }`,
      }
    },
    uniforms: matmulUniforms,
    workgroups: (p) => [Math.ceil(p.n / tileN), Math.ceil(p.m / tileM), p.batch],
    cpu(p, [a, b, bias], [out]) {
      matmulCpu(p, a!, b!, p.bias !== 'none' ? bias : undefined, out!)
    },
  }
}
