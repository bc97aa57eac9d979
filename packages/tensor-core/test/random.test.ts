import { describe, expect, it } from 'vitest'
import { ops, tidy } from '../src/index.js'
import { philox4x32 } from '../src/kernels/random.js'
import { cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ')

/** Mean and (population) variance in float64. */
function moments(v: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i]!
  const mean = s / v.length
  let q = 0
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2
  return { mean, variance: q / v.length }
}

/** Kolmogorov–Smirnov distance between samples and a CDF. */
function ksDistance(v: ArrayLike<number>, cdf: (x: number) => number): number {
  const s = Float64Array.from(v).sort()
  let d = 0
  for (let i = 0; i < s.length; i++) d = Math.max(d, Math.abs(cdf(s[i]!) - (i + 0.5) / s.length))
  return d
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26; plenty for a KS test at n = 65536.
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return Math.sign(x) * y
}

const N = 65536
// KS critical distance at α = 0.001 is 1.95/√n; generous but catches any real bias.
const KS_LIMIT = 1.95 / Math.sqrt(N)

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8')
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd')
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe('d16cfe09 94fdcceb 5001e420 24126ea1')
  })
})

describe('random ops', () => {
  it('uniform draws are bitwise equal on WebGPU and CPU, across the 2^32 counter carry', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    for (const opts of [
      { seed: 1234, offset: 0, low: -1, high: 1 },
      { seed: 99, offset: 2 ** 32 - 300, low: 0, high: 1 },
    ]) {
      const a = await ops.randomUniform(cpu, [1000], opts).read()
      const b = await ops.randomUniform(gpu, [1000], opts).read()
      expect(Array.from(b)).toEqual(Array.from(a))
    }
  })

  it('normal and gumbel draws agree across backends', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    const opts = { seed: 7, offset: 12345 }
    expectClose(await ops.randomNormal(gpu, [4099], { ...opts, mean: 1, std: 2 }).read(), await ops.randomNormal(cpu, [4099], { ...opts, mean: 1, std: 2 }).read(), 1e-4, 1e-4)
    expectClose(await ops.randomGumbel(gpu, [4099], opts).read(), await ops.randomGumbel(cpu, [4099], opts).read(), 1e-4, 1e-4)
  })

  it('has the right distributions (moments and KS distance)', async () => {
    const gpu = await gpuDevice()
    const u = await ops.randomUniform(gpu, [N], { seed: 1, low: 2, high: 5 }).read()
    const { mean: um, variance: uv } = moments(u)
    expect(um).toBeCloseTo(3.5, 1)
    expect(Math.abs(uv - 0.75) / 0.75).toBeLessThan(0.03)
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2)
    expect(Math.max(...u)).toBeLessThan(5)
    expect(ksDistance(u, (x) => (x - 2) / 3)).toBeLessThan(KS_LIMIT)

    const z = await ops.randomNormal(gpu, [N], { seed: 2, mean: -1, std: 0.5 }).read()
    const { mean: zm, variance: zv } = moments(z)
    expect(Math.abs(zm + 1)).toBeLessThan(0.02)
    expect(Math.abs(zv - 0.25) / 0.25).toBeLessThan(0.03)
    expect(ksDistance(z, (x) => 0.5 * (1 + erf((x + 1) / (0.5 * Math.SQRT2))))).toBeLessThan(KS_LIMIT)

    const g = await ops.randomGumbel(gpu, [N], { seed: 3 }).read()
    const { mean: gm, variance: gv } = moments(g)
    expect(Math.abs(gm - 0.5772156649)).toBeLessThan(0.03)
    expect(Math.abs(gv - Math.PI ** 2 / 6) / (Math.PI ** 2 / 6)).toBeLessThan(0.05)
    expect(ksDistance(g, (x) => Math.exp(-Math.exp(-x)))).toBeLessThan(KS_LIMIT)
  })

  it('different seeds and successive device draws differ; explicit {seed, offset} leaves the device stream alone', async () => {
    const gpu = await gpuDevice()
    const a = await ops.randomUniform(gpu, [64], { seed: 1 }).read()
    const b = await ops.randomUniform(gpu, [64], { seed: 2 }).read()
    expect(a.filter((v, i) => v === b[i]).length).toBeLessThan(3)

    gpu.random.setState({ seed: 5, offset: 10 })
    const first = await ops.randomUniform(gpu, [64]).read()
    expect(gpu.random.offset).toBe(74)
    const second = await ops.randomUniform(gpu, [64]).read()
    expect(Array.from(second)).not.toEqual(Array.from(first))
    // The device draws are the explicit stream at the reserved offsets.
    expect(Array.from(await ops.randomUniform(gpu, [64], { seed: 5, offset: 10 }).read())).toEqual(Array.from(first))
    expect(Array.from(await ops.randomUniform(gpu, [64], { seed: 5, offset: 74 }).read())).toEqual(Array.from(second))
    expect(gpu.random.offset).toBe(138)
    // Overlapping ranges of one stream share their values: element i is counter offset + i.
    const shifted = await ops.randomUniform(gpu, [64], { seed: 5, offset: 42 }).read()
    expect(Array.from(shifted.subarray(0, 32))).toEqual(Array.from(first.subarray(32)))
  })

  it('rejects bad options', async () => {
    const gpu = await gpuDevice()
    expect(() => ops.randomUniform(gpu, [2], { offset: 3 })).toThrow(RangeError)
    expect(() => ops.randomUniform(gpu, [2], { seed: 1, offset: -1 })).toThrow(RangeError)
    const x = gpu.tensor(new Float32Array(4), [4])
    expect(() => ops.dropout(x, 1)).toThrow(RangeError)
  })
})

describe('dropout', () => {
  it('zeroes about p of the elements, scales the rest, and matches the CPU bitwise', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    const data = randomArray(10007, 4, 0.5, 2)
    const y = await ops.dropout(gpu.tensor(data, [10007]), 0.3, { seed: 11 }).read()
    const yc = await ops.dropout(cpu.tensor(data, [10007]), 0.3, { seed: 11 }).read()
    expect(Array.from(y)).toEqual(Array.from(yc))
    let dropped = 0
    for (let i = 0; i < y.length; i++) {
      if (y[i] === 0) dropped++
      else expect(y[i]).toBeCloseTo(data[i]! / 0.7, 5)
    }
    expect(Math.abs(dropped / y.length - 0.3)).toBeLessThan(0.02)
  })

  it('is the identity when not training or p = 0', async () => {
    const gpu = await gpuDevice()
    const x = gpu.tensor(new Float32Array([1, 2, 3]), [3])
    expect(ops.dropout(x, 0.5, { training: false })).toBe(x)
    expect(ops.dropout(x, 0)).toBe(x)
  })

  it('backward uses the forward mask', async () => {
    const gpu = await gpuDevice()
    const x = gpu.tensor(randomArray(500, 5, 1, 2), [500], { requiresGrad: true })
    const y = ops.dropout(x, 0.5, { seed: 3 })
    tidy(() => ops.sum(ops.mul(y, 3)).backward())
    const [yv, gv] = [await y.read(), await x.grad!.read()]
    for (let i = 0; i < 500; i++) expect(gv[i]).toBeCloseTo(yv[i] === 0 ? 0 : 6, 5)
    await gradcheck([{ shape: [3, 5] }], ([x]) => ops.dropout(x!, 0.4, { seed: 9 }))
    await compareBackendGrads([{ shape: [3, 5] }], ([x]) => ops.dropout(x!, 0.4, { seed: 9 }))
  })
})
