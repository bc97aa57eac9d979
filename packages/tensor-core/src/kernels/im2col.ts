import type { HostArray } from '../dtype.js'

/*
 * Convolution geometry and the im2col view of an image (the column matrix of its patches):
 * what matmuls that gather their B operand from an image and the convolution kernels share.
 */

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

/** The geometry uniforms' values, in the order of GEOMETRY_UNIFORM_DECLS. */
export function geometryUniforms(g: ConvGeometry): number[] {
  return GEOMETRY_UNIFORMS.map((f) => g[f])
}

/**
 * WGSL names and types of the geometry uniforms; kernels that gather patches declare them.
 * Uniforms are u32 except the paddings, which make input coordinates negative.
 */
export const GEOMETRY_UNIFORM_DECLS = GEOMETRY_UNIFORMS.map((name) => ({
  name,
  type: (name.startsWith('pad') ? 'i32' : 'u32') as 'i32' | 'u32',
}))


/**
 * WGSL function `fn name(n, k, pix) -> f32`: element (k, pix) of image n's column matrix,
 * read from the NCHW buffer `buffer`, 0 in the padding. Needs the geometry uniforms.
 * Used by matmuls that gather their B operand from an image.
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
export function forEachPatchTap(g: ConvGeometry, visit: (colIndex: number, inputIndex: number) => void): void {
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
