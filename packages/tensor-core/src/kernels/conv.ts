import type { DType, HostArray } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'

/**
 * Geometry of a 2-D convolution over NCHW input with a [cout, cin, kh, kw] weight (PyTorch
 * layout). Convolution runs as a matrix product over the "column" matrix of input patches:
 * `col[n][k][p]` with k = (ci, ky, kx) flattened as the weight's inner dims and p = (oy, ox)
 * the output pixel, so `out[n] = W[cout, K] · col[n][K, P]` lands directly in NCHW.
 */
export interface ConvGeometry {
  batch: number
  cin: number
  h: number
  w: number
  kh: number
  kw: number
  strideH: number
  strideW: number
  padH: number
  padW: number
  hout: number
  wout: number
}

export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1
}

/** K: rows of the column matrix (one per weight element of an output channel). */
export const patchSize = (g: ConvGeometry) => g.cin * g.kh * g.kw
/** P: columns of the column matrix (output pixels per image). */
export const pixelCount = (g: ConvGeometry) => g.hout * g.wout

const GEOMETRY_UNIFORMS = ['batch', 'cin', 'h', 'w', 'kh', 'kw', 'strideH', 'strideW', 'padH', 'padW', 'hout', 'wout'] as const

function geometryUniforms(g: ConvGeometry): number[] {
  return GEOMETRY_UNIFORMS.map((f) => g[f])
}

/** Uniforms are u32 except the paddings, which make input coordinates negative. */
const geometryUniformDecls = GEOMETRY_UNIFORMS.map((name) => ({
  name,
  type: (name.startsWith('pad') ? 'i32' : 'u32') as 'i32' | 'u32',
}))

export interface Im2colParams extends ConvGeometry {
  dtype: DType
}

const WG = 256

/** WGSL names and types of the geometry uniforms; kernels that gather patches declare them. */
export const GEOMETRY_UNIFORM_DECLS = geometryUniformDecls
export { geometryUniforms }

/**
 * WGSL function `fn name(n, k, pix) -> f32`: element (k, pix) of image n's column matrix,
 * read from the NCHW buffer `buffer`, 0 in the padding. Needs the geometry uniforms.
 * Shared by explicit im2col and by matmuls that gather their B operand from an image.
 */
export function im2colLoadWgsl(name: string, buffer: string): string {
  return `
fn ${name}(n: u32, k: u32, pix: u32) -> f32 {
  let taps = u.kh * u.kw;
  let ci = k / taps;
  let ky = (k % taps) / u.kw;
  let kx = k % u.kw;
  let iy = i32((pix / u.wout) * u.strideH + ky) - u.padH;
  let ix = i32((pix % u.wout) * u.strideW + kx) - u.padW;
  if (iy < 0 || iy >= i32(u.h) || ix < 0 || ix >= i32(u.w)) { return 0.0; }
  return f32(${buffer}[((n * u.cin + ci) * u.h + u32(iy)) * u.w + u32(ix)]);
}`
}

/**
 * WGSL `fn name(n, k, pix0) -> vec4<f32>`: column-matrix elements (k, pix0..pix0+3) of image
 * n, 0 past the last pixel. Decomposes k and the first pixel once (integer division is a
 * scalar loop per SIMD lane on software adapters), then steps through the row.
 */
export function im2colLoad4Wgsl(name: string, buffer: string): string {
  const tap = (e: number) => `
  if (pix0 + ${e}u < u.hout * u.wout) {
    let iy = i32(oy * u.strideH + ky) - u.padH;
    let ix = i32(ox * u.strideW + kx) - u.padW;
    if (iy >= 0 && iy < i32(u.h) && ix >= 0 && ix < i32(u.w)) { v[${e}] = f32(${buffer}[(plane + u32(iy)) * u.w + u32(ix)]); }
  }
  ox += 1u;
  if (ox == u.wout) { ox = 0u; oy += 1u; }`
  return `
fn ${name}(n: u32, k: u32, pix0: u32) -> vec4<f32> {
  let taps = u.kh * u.kw;
  let ci = k / taps;
  let ky = (k - ci * taps) / u.kw;
  let kx = k - ci * taps - ky * u.kw;
  let plane = (n * u.cin + ci) * u.h;
  var oy = pix0 / u.wout;
  var ox = pix0 - oy * u.wout;
  var v = vec4<f32>(0.0);${[0, 1, 2, 3].map(tap).join('')}
  return v;
}`
}

/**
 * Calls `visit(colIndex, inputIndex)` for every column-matrix entry [N, K, P] of the geometry
 * that reads an input element (NCHW index); entries in the padding are skipped. The loops
 * walk output rows so no index is divided per element (the CPU backend's convolutions run on
 * this).
 */
function forEachPatchTap(g: ConvGeometry, visit: (colIndex: number, inputIndex: number) => void): void {
  const P = pixelCount(g)
  let i = 0
  for (let n = 0; n < g.batch; n++)
    for (let ci = 0; ci < g.cin; ci++) {
      const plane = (n * g.cin + ci) * g.h
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++, i += P)
          for (let oy = 0; oy < g.hout; oy++) {
            const iy = oy * g.strideH + ky - g.padH
            if (iy < 0 || iy >= g.h) continue
            const rowBase = (plane + iy) * g.w
            const colBase = i + oy * g.wout
            for (let ox = 0; ox < g.wout; ox++) {
              const ix = ox * g.strideW + kx - g.padW
              if (ix >= 0 && ix < g.w) visit(colBase + ox, rowBase + ix)
            }
          }
    }
}

/** CPU twin of `im2colLoadWgsl`: the column matrix [N, K, P] of NCHW `x`. */
export function im2colCpu(g: ConvGeometry, x: ArrayLike<number>, col: HostArray): void {
  col.fill(0)
  forEachPatchTap(g, (c, xi) => {
    col[c] = x[xi]!
  })
}

/** Invocations of im2col: one per run of 4 output pixels of one (image, patch element) row. */
const im2colQuads = (p: ConvGeometry) => p.batch * patchSize(p) * Math.ceil(pixelCount(p) / 4)

/**
 * x [N, cin, h, w] → col [N, K, P]; taps that fall in the padding read 0. Each invocation
 * writes 4 consecutive pixels of one row, so the index arithmetic (integer division, a scalar
 * loop per lane on software adapters) is paid once per 4 elements.
 */
export const im2colKernel: Kernel<Im2colParams> = {
  name: 'conv.im2col',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [{ name: 'x', dtype: p.dtype }],
    outputs: [{ name: 'col', dtype: p.dtype }],
    uniforms: [...geometryUniformDecls, { name: 'total', type: 'u32' }],
    workgroupSize: WG,
    module: im2colLoad4Wgsl('imagePatch4', 'x'),
    body: `
  let t = wg * ${WG}u + lidx;
  if (t >= u.total) { return; }
  let P = u.hout * u.wout;
  let K = u.cin * u.kh * u.kw;
  let quads = (P + 3u) / 4u;
  let row = t / quads;
  let pix0 = (t - row * quads) * 4u;
  let n = row / K;
  let v = imagePatch4(n, row - n * K, pix0);
  let base = row * P + pix0;
  for (var e = 0u; e < 4u; e++) {
    if (pix0 + e < P) { col[base + e] = ${p.dtype}(v[e]); }
  }`,
  }),
  uniforms: (p) => [...geometryUniforms(p), im2colQuads(p)],
  workgroups: (p) => groupsFor(im2colQuads(p), WG),
  cpu(p, [x], [col]) {
    im2colCpu(p, x!, col!)
  },
}

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
    uniforms: [...geometryUniformDecls, { name: 'total', type: 'u32' }],
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
