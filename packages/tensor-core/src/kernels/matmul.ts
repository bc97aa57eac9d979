import type { DType } from '../dtype.js'
import type { Kernel } from '../kernel.js'

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
}

const TILE = 32
const TK = 16
/** Each invocation computes a 4×4 block of a 32×32 output tile. */
const WG: [number, number, number] = [8, 8, 1]

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

/** Reference matmul shared by every matmul variant's CPU path. */
export function matmulCpu(p: MatmulParams, a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | undefined, out: Float32Array): void {
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

export const matmulTiledKernel: Kernel<MatmulParams> = {
  name: 'matmul.tiled',
  key: (p) => `${p.dtype}|${+p.transA}${+p.transB}|${p.bias}|${p.activation}`,
  shader(p) {
    const t = p.dtype
    const aIndex = p.transA ? 'ab + kk * u.m + row' : 'ab + row * u.k + kk'
    const bIndex = p.transB ? 'bb + col * u.k + kk' : 'bb + kk * u.n + col'
    return {
      inputs: [
        { name: 'a', dtype: t },
        { name: 'b', dtype: t },
        ...(p.bias !== 'none' ? [{ name: 'bias', dtype: t }] : []),
      ],
      outputs: [{ name: 'c', dtype: t }],
      uniforms: [
        { name: 'm', type: 'u32' },
        { name: 'n', type: 'u32' },
        { name: 'k', type: 'u32' },
        { name: 'aBatch', type: 'u32' },
        { name: 'bBatch', type: 'u32' },
        { name: 'tilesN', type: 'u32' },
      ],
      workgroupSize: WG,
      module: `
var<workgroup> tileA: array<array<f32, ${TILE}>, ${TK}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TK}>;
fn tanh_safe(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }`,
      body: `
  let z = wid.z;
  let tileRow = (wid.y) * ${TILE}u;
  let tileCol = wid.x * ${TILE}u;
  let ab = z * u.aBatch;
  let bb = z * u.bBatch;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < u.k; k0 += ${TK}u) {
    // 64 invocations load a ${TK}×${TILE} slice of each operand (8 values each).
    for (var l = lidx; l < ${TK * TILE}u; l += 64u) {
      let kk0 = l / ${TILE}u;
      let rc = l % ${TILE}u;
      let kk = k0 + kk0;
      let row = tileRow + rc;
      let col = tileCol + rc;
      tileA[kk0][rc] = select(0.0, f32(a[${aIndex}]), kk < u.k && row < u.m);
      tileB[kk0][rc] = select(0.0, f32(b[${bIndex}]), kk < u.k && col < u.n);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = tileA[kk][lid.y * 4u + i]; bv[i] = tileB[kk][lid.x * 4u + i]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] += av[i] * bv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = tileRow + lid.y * 4u + i;
    if (row >= u.m) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = tileCol + lid.x * 4u + j;
      if (col >= u.n) { continue; }
      var v = acc[i][j]${p.bias === 'none' ? '' : ` + f32(bias[${p.bias}])`};
      c[z * u.m * u.n + row * u.n + col] = ${t}(${ACTIVATION_WGSL[p.activation]('v')});
    }
  }`,
    }
  },
  uniforms: (p) => [p.m, p.n, p.k, p.aBatchStride, p.bBatchStride, Math.ceil(p.n / TILE)],
  workgroups: (p) => [Math.ceil(p.n / TILE), Math.ceil(p.m / TILE), p.batch],
  cpu(p, [a, b, bias], [out]) {
    matmulCpu(p, a!, b!, p.bias !== 'none' ? bias : undefined, out as Float32Array)
  },
}
