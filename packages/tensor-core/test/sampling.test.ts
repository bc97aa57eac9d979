import { describe, expect, it } from 'vitest'
import { ops, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, gpuDevice, randomArray } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

const LOWEST = -3.4028234663852886e38

describe('topK', () => {
  it('sorts descending with ties broken by lower index, on both backends', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const x = d.tensor(Float32Array.from([1, 5, 3, 5, -Infinity, 3, 0, 9]), [2, 4])
      const { values, indices } = ops.topK(x, 3)
      expect(Array.from(await values.read())).toEqual([5, 5, 3, 9, 3, 0])
      expect(Array.from(await indices.read())).toEqual([1, 3, 2, 3, 1, 2])
    }
  })

  it('matches the CPU on rows longer than the workgroup, with many ties, and k = n', async () => {
    await compareBackends((d) => {
      // Values on a coarse grid force ties; 1000 > 128 invocations per row.
      const coarse = d.tensor(Float32Array.from(randomArray(3 * 1000, 1, 0, 20), Math.floor), [3, 1000])
      const wide = ops.topK(coarse, 50)
      const full = ops.topK(d.tensor(randomArray(2 * 2 * 7, 2), [2, 2, 7]), 7)
      const one = ops.topK(d.tensor(randomArray(5, 3), [5, 1]), 1)
      return [wide.values, wide.indices, full.values, full.indices, one.values, one.indices]
    })
  })

  it('gradient flows to the picked positions', async () => {
    const build = ([x]: Tensor[]) => ops.topK(x!, 3).values
    await gradcheck([{ shape: [2, 6] }], build)
    await compareBackendGrads([{ shape: [2, 6] }], build)
  })

  it('rejects k out of range', async () => {
    const gpu = await gpuDevice()
    expect(() => ops.topK(gpu.tensor(new Float32Array(4), [4]), 5)).toThrow(RangeError)
    expect(() => ops.topK(gpu.tensor(new Float32Array(4), [4]), 0)).toThrow(RangeError)
  })
})

describe('filterTopK / filterTopP', () => {
  it('filterTopK keeps the k largest (and ties with the k-th)', async () => {
    const cpu = await cpuDevice()
    const y = await ops.filterTopK(cpu.tensor(Float32Array.from([1, 4, 2, 4, 3, 0]), [1, 6]), 2).read()
    expect(Array.from(y)).toEqual([LOWEST, 4, LOWEST, 4, LOWEST, LOWEST])
    await compareBackends((d) => ops.filterTopK(d.tensor(randomArray(4 * 300, 4), [4, 300]), 17))
  })

  it('filterTopP keeps the smallest nucleus of mass >= p', async () => {
    const cpu = await cpuDevice()
    // Probabilities 0.5, 0.25, 0.125, 0.125.
    const logits = Float32Array.from([Math.log(0.125), Math.log(0.5), Math.log(0.125), Math.log(0.25)])
    const keep = async (p: number) => Array.from(await ops.filterTopP(cpu.tensor(logits, [1, 4]), p).read()).map((v) => v !== LOWEST)
    expect(await keep(0.4)).toEqual([false, true, false, false])
    expect(await keep(0.7)).toEqual([false, true, false, true])
    // Ties with the last kept logit are kept.
    expect(await keep(0.8)).toEqual([true, true, true, true])
    expect(await keep(1)).toEqual([true, true, true, true])
  })

  it('filterTopP matches the sort-based CPU reference on WebGPU', async () => {
    await compareBackends((d) => [0.1, 0.5, 0.9, 0.99, 1].map((p) => ops.filterTopP(d.tensor(randomArray(3 * 777, 5, -4, 4), [3, 777]), p)))
    await compareBackends((d) => ops.filterTopP(d.tensor(Float32Array.from([-2, 7, 7, 1, -Infinity, 0]), [2, 3]), 0.5))
  })
})

describe('categoricalSample', () => {
  it('follows softmax(logits / T) and is reproducible from {seed, offset}', async () => {
    const gpu = await gpuDevice()
    const V = 5
    const B = 4000
    const logits = Float32Array.from({ length: B * V }, (_, i) => [0, 1, 2, -1, 0.5][i % V]!)
    for (const temperature of [1, 0.5]) {
      const ids = await ops.categoricalSample(gpu.tensor(logits, [B, V]), { temperature, seed: 21 }).read()
      const counts = new Array<number>(V).fill(0)
      for (const id of ids) counts[id]!++
      const w = [0, 1, 2, -1, 0.5].map((l) => Math.exp(l / temperature))
      const total = w.reduce((a, b) => a + b)
      for (let c = 0; c < V; c++) {
        const p = w[c]! / total
        // 4.5 standard deviations of a binomial count.
        expect(Math.abs(counts[c]! - B * p)).toBeLessThan(4.5 * Math.sqrt(B * p * (1 - p)) + 1)
      }
    }
    const again = (seed: number) => ops.categoricalSample(gpu.tensor(logits, [B, V]), { seed }).read()
    expect(Array.from(await again(3))).toEqual(Array.from(await again(3)))
    expect(Array.from(await again(3))).not.toEqual(Array.from(await again(4)))
  })

  it('agrees across backends, gives i32 [...batch], and temperature 0 is argmax', async () => {
    await compareBackends((d) => ops.categoricalSample(d.tensor(randomArray(2 * 3 * 50, 6, -3, 3), [2, 3, 50]), { seed: 8, offset: 99 }))
    const cpu = await cpuDevice()
    const y = ops.categoricalSample(cpu.tensor(Float32Array.from([0, 3, 1, 7, 2, 2]), [2, 3]), { temperature: 0 })
    expect(y.dtype).toBe('i32')
    expect(Array.from(await y.read())).toEqual([1, 0])
  })

  it('draws from the device stream when no seed is given', async () => {
    const gpu = await gpuDevice()
    const before = gpu.random.offset
    ops.categoricalSample(gpu.tensor(new Float32Array(3 * 10), [3, 10]))
    expect(gpu.random.offset).toBe(before + 30)
  })
})
