import type { DType } from '../dtype.js'
import { groupsFor, type Kernel } from '../kernel.js'

/** Max pooling over `planes` = N·C independent h×w planes, no padding. */
export interface MaxPoolParams {
  dtype: DType
  planes: number
  h: number
  w: number
  kernel: number
  stride: number
  hout: number
  wout: number
}

const WG = 256
const UNIFORMS = ['planes', 'h', 'w', 'kernel', 'stride', 'hout', 'wout'] as const
const uniformDecls = [...UNIFORMS.map((name) => ({ name, type: 'u32' as const })), { name: 'total', type: 'u32' as const }]

/**
 * y = window max; idx = the in-plane position (iy·w + ix) of the first maximum in row-major
 * window order, which routes the gradient in backward (ties: first, as PyTorch).
 */
export const maxPoolKernel: Kernel<MaxPoolParams> = {
  name: 'pool.max',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [{ name: 'x', dtype: p.dtype }],
    outputs: [
      { name: 'y', dtype: p.dtype },
      { name: 'idx', dtype: 'i32' },
    ],
    uniforms: uniformDecls,
    workgroupSize: WG,
    body: `
  let i = wg * ${WG}u + lidx;
  if (i >= u.total) { return; }
  let ox = i % u.wout;
  let oy = (i / u.wout) % u.hout;
  let plane = i / (u.wout * u.hout);
  let base = plane * u.h * u.w;
  var best = f32(x[base + oy * u.stride * u.w + ox * u.stride]);
  var at = oy * u.stride * u.w + ox * u.stride;
  for (var ky = 0u; ky < u.kernel; ky++) {
    for (var kx = 0u; kx < u.kernel; kx++) {
      let pos = (oy * u.stride + ky) * u.w + ox * u.stride + kx;
      let v = f32(x[base + pos]);
      if (v > best) { best = v; at = pos; }
    }
  }
  y[i] = ${p.dtype}(best);
  idx[i] = i32(at);`,
  }),
  uniforms: (p) => [...UNIFORMS.map((f) => p[f]), p.planes * p.hout * p.wout],
  workgroups: (p) => groupsFor(p.planes * p.hout * p.wout, WG),
  cpu(p, [x], [y, idx]) {
    let i = 0
    for (let plane = 0; plane < p.planes; plane++) {
      const base = plane * p.h * p.w
      for (let oy = 0; oy < p.hout; oy++)
        for (let ox = 0; ox < p.wout; ox++, i++) {
          let at = oy * p.stride * p.w + ox * p.stride
          let best = x![base + at]!
          for (let ky = 0; ky < p.kernel; ky++)
            for (let kx = 0; kx < p.kernel; kx++) {
              const pos = (oy * p.stride + ky) * p.w + ox * p.stride + kx
              if (x![base + pos]! > best) {
                best = x![base + pos]!
                at = pos
              }
            }
          y![i] = best
          idx![i] = at
        }
    }
  },
}

/**
 * dx from dy and the forward's argmax: each input element gathers the gradients of the
 * windows that chose it (windows overlap when stride < kernel).
 */
export const maxPoolBackwardKernel: Kernel<MaxPoolParams> = {
  name: 'pool.max.backward',
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [
      { name: 'dy', dtype: p.dtype },
      { name: 'idx', dtype: 'i32' },
    ],
    outputs: [{ name: 'dx', dtype: p.dtype }],
    uniforms: uniformDecls,
    workgroupSize: WG,
    body: `
  let i = wg * ${WG}u + lidx;
  if (i >= u.total) { return; }
  let pos = i % (u.h * u.w);
  let plane = i / (u.h * u.w);
  let iy = pos / u.w;
  let ix = pos % u.w;
  // Windows oy with oy·stride <= iy < oy·stride + kernel, clipped to the output.
  let oy0 = select(0u, (iy + u.stride - u.kernel) / u.stride, iy + u.stride >= u.kernel);
  let ox0 = select(0u, (ix + u.stride - u.kernel) / u.stride, ix + u.stride >= u.kernel);
  let oy1 = min(iy / u.stride + 1u, u.hout);
  let ox1 = min(ix / u.stride + 1u, u.wout);
  var acc = 0.0;
  for (var oy = oy0; oy < oy1; oy++) {
    for (var ox = ox0; ox < ox1; ox++) {
      let o = (plane * u.hout + oy) * u.wout + ox;
      if (u32(idx[o]) == pos) { acc += f32(dy[o]); }
    }
  }
  dx[i] = ${p.dtype}(acc);`,
  }),
  uniforms: (p) => [...UNIFORMS.map((f) => p[f]), p.planes * p.h * p.w],
  workgroups: (p) => groupsFor(p.planes * p.h * p.w, WG),
  cpu(p, [dy, idx], [dx]) {
    dx!.fill(0)
    const outPlane = p.hout * p.wout
    for (let o = 0; o < p.planes * outPlane; o++) dx![Math.floor(o / outPlane) * p.h * p.w + idx![o]!]! += dy![o]!
  },
}
