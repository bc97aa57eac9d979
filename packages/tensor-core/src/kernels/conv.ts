import type { DType } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'
import { forEachPatchTap, GEOMETRY_UNIFORM_DECLS, geometryUniforms, im2colCpu, pixelCount, patchSize, type ConvGeometry } from './im2col.js'
import { matmulCpu, type MatmulParams } from './matmul.js'

export interface Im2colParams extends ConvGeometry {
  dtype: DType
}

const WG = 256

/** Invocations of col2im: one per run of 4 input pixels of one (image, channel, row). */
const col2imQuads = (p: ConvGeometry) => p.batch * p.cin * p.h * Math.ceil(p.w / 4)

/**
 * The adjoint of im2col: dcol [N, K, P] → dx [N, cin, h, w], each input element summing the
 * column entries that read it. Written as a gather, so no atomics are needed; each invocation
 * sums 4 neighbouring pixels of one input row, sharing the row's index arithmetic and the
 * vertical tap checks (same taps in the same order as one pixel at a time).
 */
export const col2imKernel: Kernel<Im2colParams> = {
  name: 'conv.col2im',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [{ name: 'col', dtype: p.dtype }],
    outputs: [{ name: 'dx', dtype: p.dtype }],
    uniforms: [...GEOMETRY_UNIFORM_DECLS, { name: 'total', type: 'u32' }],
    workgroupSize: WG,
    body: `
  let t = wg * ${WG}u + lidx;
  if (t >= u.total) { return; }
  let P = u.hout * u.wout;
  let taps = u.kh * u.kw;
  let quads = (u.w + 3u) / 4u;
  let row = t / quads;
  let ix0 = (t - row * quads) * 4u;
  let nc = row / u.h;
  let iy = i32(row - nc * u.h);
  let base = nc * taps * P;
  var acc = vec4<f32>(0.0);
  for (var ky = 0u; ky < u.kh; ky++) {
    let ty = iy + u.padH - i32(ky);
    if (ty < 0 || ty % i32(u.strideH) != 0) { continue; }
    let oy = u32(ty) / u.strideH;
    if (oy >= u.hout) { continue; }
    for (var kx = 0u; kx < u.kw; kx++) {
      let tapRow = base + (ky * u.kw + kx) * P + oy * u.wout;
      for (var e = 0u; e < 4u; e++) {
        let tx = i32(ix0 + e) + u.padW - i32(kx);
        if (tx < 0 || tx % i32(u.strideW) != 0) { continue; }
        let ox = u32(tx) / u.strideW;
        if (ox >= u.wout) { continue; }
        acc[e] += f32(col[tapRow + ox]);
      }
    }
  }
  let out = row * u.w + ix0;
  for (var e = 0u; e < 4u; e++) {
    if (ix0 + e < u.w) { dx[out + e] = ${p.dtype}(acc[e]); }
  }`,
  }),
  uniforms: (p) => [...geometryUniforms(p), col2imQuads(p)],
  workgroups: (p) => groupsFor(col2imQuads(p), WG),
  cpu(p, [col], [dx]) {
    dx!.fill(0)
    // Scatter form of the same sum (the WGSL gathers); both visit each (input, tap) pair once.
    forEachPatchTap(p, (c, xi) => {
      dx![xi]! += col![c]!
    })
  },
}

export interface ConvWeightGradParams extends Im2colParams {
  cout: number
  /** Images one workgroup sums over; the grid's z runs over ceil(batch / imagesPerChunk) chunks. */
  imagesPerChunk: number
}

/**
 * Output tile of one workgroup (output channels × patch elements, each invocation
 * accumulating all of it) and the invocations splitting the pixels. Larger tiles load each
 * dy and x value for more multiply-adds; 4-wide ones waste less where cout or K is small.
 */
interface WeightGradTile {
  rows: number
  cols: number
  lanes: number
}

export function weightGradTile(p: ConvWeightGradParams): WeightGradTile {
  const rows = p.cout >= 8 ? 8 : 4
  const cols = patchSize(p) >= 8 ? 8 : 4
  // Workgroup memory holds every lane's tile for the final sum: at most 8 KiB.
  return { rows, cols, lanes: rows * cols > 16 ? 32 : 64 }
}

export const weightGradChunks = (p: ConvWeightGradParams) => Math.ceil(p.batch / p.imagesPerChunk)

/**
 * The convolution weight gradient summed over a chunk of images:
 * `dw[chunk][co][k] = Σ_{n in chunk} Σ_p dy[n][co][p] · col(n, k, p)`, col gathered from x.
 *
 * Its output (cout × K) is small and its reduction (images × pixels) long, the shape a tiled
 * matmul handles worst: a per-image matmul wasted most of each tile on cout = 4 or 8 and then
 * needed a reduction over the batch. Here a workgroup owns an output tile and its lanes
 * split the pixels, so neighbouring lanes read neighbouring pixels of dy and x (contiguous
 * across SIMD lanes on software adapters), and the lanes' partial tiles are summed in
 * workgroup memory. Pixel coordinates advance by a fixed step: no division in the loop.
 */
export const convWeightGradKernel: Kernel<ConvWeightGradParams> = {
  name: 'conv.weightGrad',
  key: (p) => {
    const t = weightGradTile(p)
    return `${p.dtype}|${t.rows}x${t.cols}|${t.lanes}`
  },
  shader: (p) => {
    const { rows: R, cols: C, lanes: L } = weightGradTile(p)
    const rows = [...Array(R).keys()]
    const quads = [...Array(C / 4).keys()]
    const cols = [...Array(C).keys()]
    return {
      inputs: [
        { name: 'dy', dtype: p.dtype },
        { name: 'x', dtype: p.dtype },
      ],
      outputs: [{ name: 'dw', dtype: p.dtype }],
      uniforms: [...GEOMETRY_UNIFORM_DECLS, { name: 'cout', type: 'u32' }, { name: 'imagesPerChunk', type: 'u32' }],
      workgroupSize: L,
      module: `var<workgroup> partial: array<vec4<f32>, ${(R * C * L) / 4}>;`,
      body: `
  let P = u.hout * u.wout;
  let taps = u.kh * u.kw;
  let K = u.cin * taps;
  let planeSize = u.h * u.w;
  let k0 = wid.x * ${C}u;
  let co0 = wid.y * ${R}u;
  // Where each of this tile's patch elements reads: channel plane and tap offset. Elements
  // past K (or channels past cout) are clamped to real ones and their sums discarded.
${cols
  .map(
    (j) => `  let kk${j} = min(k0 + ${j}u, K - 1u);
  let ci${j} = kk${j} / taps;
  let ky${j} = (kk${j} - ci${j} * taps) / u.kw;
  let plane${j} = ci${j} * planeSize;
  let offY${j} = i32(ky${j}) - u.padH;
  let offX${j} = i32(kk${j} - ci${j} * taps - ky${j} * u.kw) - u.padW;`,
  )
  .join('\n')}
${rows.map((i) => `  let row${i} = min(co0 + ${i}u, u.cout - 1u) * P;`).join('\n')}
  let stepY = ${L}u / u.wout;
  let stepX = ${L}u - stepY * u.wout;
${rows.flatMap((i) => quads.map((q) => `  var acc${i}_${q} = vec4<f32>(0.0);`)).join('\n')}
  let n0 = wid.z * u.imagesPerChunk;
  let n1 = min(u.batch, n0 + u.imagesPerChunk);
  for (var n = n0; n < n1; n++) {
    let image = n * u.cin * planeSize;
    let grads = n * u.cout * P;
    var oy = lidx / u.wout;
    var ox = lidx - oy * u.wout;
    for (var pix = lidx; pix < P; pix += ${L}u) {
      let by = i32(oy * u.strideH);
      let bx = i32(ox * u.strideW);
${quads.map((q) => `      var c${q} = vec4<f32>(0.0);`).join('\n')}
${cols
  .map(
    (j) => `      let iy${j} = by + offY${j};
      let ix${j} = bx + offX${j};
      if (iy${j} >= 0 && iy${j} < i32(u.h) && ix${j} >= 0 && ix${j} < i32(u.w)) { c${j >> 2}[${j & 3}] = f32(x[image + plane${j} + u32(iy${j}) * u.w + u32(ix${j})]); }`,
  )
  .join('\n')}
${rows.map((i) => `      let g${i} = f32(dy[grads + row${i} + pix]);\n${quads.map((q) => `      acc${i}_${q} += g${i} * c${q};`).join('\n')}`).join('\n')}
      ox += stepX;
      oy += stepY;
      if (ox >= u.wout) { ox -= u.wout; oy += 1u; }
    }
  }
${rows.flatMap((i) => quads.map((q) => `  partial[${(i * quads.length + q) * L}u + lidx] = acc${i}_${q};`)).join('\n')}
  for (var s = ${L / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lidx < s) {
${rows.flatMap((i) => quads.map((q) => (i * quads.length + q) * L)).map((o) => `      partial[${o}u + lidx] += partial[${o}u + lidx + s];`).join('\n')}
    }
  }
  workgroupBarrier();
  for (var t = lidx; t < ${R * C}u; t += ${L}u) {
    let i = t / ${C}u;
    let j = t - i * ${C}u;
    let co = co0 + i;
    let k = k0 + j;
    if (co < u.cout && k < K) { dw[(wid.z * u.cout + co) * K + k] = ${p.dtype}(partial[(i * ${C / 4}u + j / 4u) * ${L}u][j % 4u]); }
  }`,
    }
  },
  uniforms: (p) => [...geometryUniforms(p), p.cout, p.imagesPerChunk],
  workgroups: (p) => {
    const t = weightGradTile(p)
    return [Math.ceil(patchSize(p) / t.cols), Math.ceil(p.cout / t.rows), weightGradChunks(p)]
  },
  cpu(p, [dy, x], [dw]) {
    // Per image: its column matrix, then dy[n] · colᵀ by the blocked reference matmul.
    const P = pixelCount(p)
    const K = patchSize(p)
    const image = p.cin * p.h * p.w
    const col = new Float32Array(K * P)
    const perImage = new Float32Array(p.cout * K)
    const product: MatmulParams = { dtype: 'f32', batch: 1, m: p.cout, n: K, k: P, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0, bias: 'none', activation: 'none' }
    dw!.fill(0)
    for (let n = 0; n < p.batch; n++) {
      im2colCpu({ ...p, batch: 1 }, x!.subarray(n * image, (n + 1) * image), col)
      matmulCpu(product, dy!.subarray(n * p.cout * P, (n + 1) * p.cout * P), col, undefined, perImage)
      const out = Math.floor(n / p.imagesPerChunk) * p.cout * K
      for (let i = 0; i < perImage.length; i++) dw![out + i]! += perImage[i]!
    }
  },
}
