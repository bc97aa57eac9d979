import { groupsFor, type Kernel } from '../kernel.js'

/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011), keyed by (seed, 0) with the 64-bit counter `offset + i` for
 * element i. Every value depends on (seed, counter) only, so WGSL and the CPU reference give
 * the same bits, in any launch order, and a stream resumes exactly from {seed, offset}.
 *
 * Each element uses its own Philox block (4 words) and takes the words it needs: this wastes
 * some arithmetic but keeps "element i ↔ counter offset + i" obvious for every distribution.
 */
export type RandomDist =
  /** low + (high − low)·u, u ∈ [0, 1) on a 2⁻²⁴ grid: a = low, b = high. */
  | 'uniform'
  /** Box–Muller: a = mean, b = std. */
  | 'normal'
  /** −log(−log u), u ∈ (0, 1): a = location, b = scale. */
  | 'gumbel'
  /** Inverted-dropout multiplier: 0 where u < a (= p), else b (= 1 / (1 − p)). */
  | 'dropoutScale'

export interface RandomParams {
  dist: RandomDist
  size: number
  seed: number
  /** First counter (an integer < 2⁵³). */
  offset: number
  a: number
  b: number
}

const WG = 256
const TWO_POW_32 = 2 ** 32
const INV_2_24 = 2 ** -24

const M0 = 0xd2511f53
const M1 = 0xcd9e8d57
const W0 = 0x9e3779b9
const W1 = 0xbb67ae85

/** High 32 bits of a 32×32 product from 16-bit halves: WGSL has no 64-bit integers. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff
  const ah = a >>> 16
  const bl = b & 0xffff
  const bh = b >>> 16
  const ll = al * bl
  const lh = al * bh
  const hl = ah * bl
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff)
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0
}

/** The four output words of Philox4x32-10 for counter (c0, c1, c2, c3) and key (k0, k1). */
export function philox4x32(c: readonly [number, number, number, number], key: readonly [number, number]): [number, number, number, number] {
  let c0 = c[0] >>> 0
  let c1 = c[1] >>> 0
  let c2 = c[2] >>> 0
  let c3 = c[3] >>> 0
  let k0 = key[0] >>> 0
  let k1 = key[1] >>> 0
  // Scalar locals only: the CPU backend calls this once per random number.
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0
      k1 = (k1 + W1) >>> 0
    }
    const hi0 = mulhi(M0, c0)
    const lo0 = Math.imul(M0, c0) >>> 0
    const hi1 = mulhi(M1, c2)
    const lo1 = Math.imul(M1, c2) >>> 0
    const next0 = (hi1 ^ c1 ^ k0) >>> 0
    const next2 = (hi0 ^ c3 ^ k1) >>> 0
    c0 = next0
    c1 = lo1
    c2 = next2
    c3 = lo0
  }
  return [c0, c1, c2, c3]
}

const PHILOX_WGSL = `
fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) { k = k + vec2<u32>(${W0}u, ${W1}u); }
    let hi0 = mulhi(${M0}u, c.x); let lo0 = ${M0}u * c.x;
    let hi1 = mulhi(${M1}u, c.z); let lo1 = ${M1}u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}
// u32 → f32 on the 2^-24 grid: exact in f32, so both backends agree bit for bit.
fn unit(w: u32) -> f32 { return f32(w >> 8u) * ${INV_2_24}; }
`

/** The CPU twin of WGSL `unit`. */
const unit = (w: number) => (w >>> 8) * INV_2_24

/** Per distribution: the WGSL expression of the value (words in r, uniforms a, b) and its CPU twin. */
const DISTS: Record<RandomDist, { wgsl: string; cpu: (r: number[], a: number, b: number) => number }> = {
  uniform: {
    wgsl: 'u.a + (u.b - u.a) * unit(r.x)',
    cpu: (r, a, b) => Math.fround(a + Math.fround(Math.fround(b - a) * unit(r[0]!))),
  },
  normal: {
    // u1 ∈ (0, 1] keeps log finite.
    wgsl: `u.a + u.b * sqrt(-2.0 * log(unit(r.x) + ${INV_2_24})) * cos(${2 * Math.PI} * unit(r.y))`,
    cpu: (r, a, b) => a + b * Math.sqrt(-2 * Math.log(unit(r[0]!) + INV_2_24)) * Math.cos(2 * Math.PI * unit(r[1]!)),
  },
  gumbel: {
    // u ∈ (0, 1): the half-step shift keeps both logs finite.
    wgsl: `u.a - u.b * log(-log(unit(r.x) + ${INV_2_24 / 2}))`,
    cpu: (r, a, b) => a - b * Math.log(-Math.log(unit(r[0]!) + INV_2_24 / 2)),
  },
  dropoutScale: {
    wgsl: 'select(u.b, 0.0, unit(r.x) < u.a)',
    cpu: (r, a, b) => (unit(r[0]!) < a ? 0 : b),
  },
}

export const randomKernel: Kernel<RandomParams> = {
  name: 'random',
  key: (p) => p.dist,
  shader: (p) => ({
    inputs: [],
    outputs: [{ name: 'out', dtype: 'f32' }],
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'seed', type: 'u32' },
      { name: 'offLo', type: 'u32' },
      { name: 'offHi', type: 'u32' },
      { name: 'a', type: 'f32' },
      { name: 'b', type: 'f32' },
    ],
    workgroupSize: WG,
    module: PHILOX_WGSL,
    body: `  let i = wg * ${WG}u + lidx;
  if (i >= u.size) { return; }
  let lo = u.offLo + i;
  let r = philox(vec4<u32>(lo, u.offHi + select(0u, 1u, lo < i), 0u, 0u), vec2<u32>(u.seed, 0u));
  out[i] = ${DISTS[p.dist].wgsl};`,
  }),
  uniforms: (p) => [p.size, p.seed >>> 0, p.offset % TWO_POW_32, Math.floor(p.offset / TWO_POW_32), p.a, p.b],
  workgroups: (p) => groupsFor(p.size, WG),
  cpu(p, _inputs, [out]) {
    const dist = DISTS[p.dist]
    const a = Math.fround(p.a)
    const b = Math.fround(p.b)
    for (let i = 0; i < p.size; i++) {
      const counter = p.offset + i
      const r = philox4x32([counter % TWO_POW_32, Math.floor(counter / TWO_POW_32), 0, 0], [p.seed, 0])
      out![i] = dist.cpu(r, a, b)
    }
  },
}
