import { describe, expect, it } from 'vitest'
import { ops, ShapeError, DTypeError, tidy, type Device, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

const N = 6
const C = 5
const TARGETS = Int32Array.from([1, -100, 4, 0, 4, 2])

/** PyTorch's formula in float64: (1−ε)·nll + ε·mean(−log p), zero on ignored rows. */
function referenceRows(x: Float32Array, t: Int32Array, c: number, eps: number): number[] {
  return Array.from(t, (target, r) => {
    if (target === -100) return 0
    const row = Array.from(x.subarray(r * c, (r + 1) * c))
    const m = Math.max(...row)
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0))
    return (1 - eps) * (lse - row[target]!) + (eps * row.reduce((s, v) => s + lse - v, 0)) / c
  })
}

describe('crossEntropy', () => {
  it('matches the float64 formula for every reduction, ignore index and label smoothing', async () => {
    const cpu = await cpuDevice()
    const x = randomArray(N * C, 1, -3, 3)
    for (const eps of [0, 0.1]) {
      const rows = referenceRows(x, TARGETS, C, eps)
      const run = (reduction: 'mean' | 'sum' | 'none') =>
        ops.crossEntropy(cpu.tensor(x, [N, C]), cpu.tensor(TARGETS, [N]), { labelSmoothing: eps, reduction }).read()
      expectClose(await run('none'), rows, 1e-5, 1e-6)
      const total = rows.reduce((a, b) => a + b)
      expectClose(await run('sum'), [total], 1e-5)
      expectClose(await run('mean'), [total / 5], 1e-5)
    }
  })

  it('matches the CPU on WebGPU, incl. rows longer than the workgroup and a custom ignore index', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(3 * 7 * 1000, 2, -5, 5), [3, 7, 1000])
      const t = d.tensor(Int32Array.from({ length: 21 }, (_, i) => (i * 397) % 1000), [3, 7])
      return [
        ops.crossEntropy(x, t, { reduction: 'none' }),
        ops.crossEntropy(x, t, { labelSmoothing: 0.2, ignoreIndex: 397 }),
        ops.crossEntropy(d.tensor(randomArray(N * C, 3), [N, C]), d.tensor(TARGETS, [N]), { reduction: 'sum' }),
      ]
    }, { rtol: 1e-5, atol: 1e-5 })
  })

  it('gradients: finite differences and WebGPU vs CPU, for each reduction', async () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const build = ([x]: Tensor[], d: Device) => ops.crossEntropy(x!, d.tensor(TARGETS, [N]), { labelSmoothing: 0.15, reduction })
      await gradcheck([{ shape: [N, C] }], build)
      await compareBackendGrads([{ shape: [N, C] }], build)
    }
  })

  it('ignored rows get zero gradient; all-ignored mean is NaN as in PyTorch', async () => {
    const gpu = await gpuDevice()
    const x = gpu.tensor(randomArray(N * C, 4), [N, C], { requiresGrad: true })
    tidy(() => ops.crossEntropy(x, gpu.tensor(TARGETS, [N])).backward())
    expect(Array.from((await x.grad!.read()).subarray(C, 2 * C))).toEqual([0, 0, 0, 0, 0])
    const loss = await ops.crossEntropy(gpu.tensor(randomArray(2 * C, 5), [2, C]), gpu.tensor(Int32Array.from([-100, -100]), [2])).item()
    expect(loss).toBeNaN()
  })

  it('an out-of-range target is the same ShapeError on both backends (WebGPU: at the next read); shapes and dtypes are checked', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    const bad = Int32Array.from([0, C])
    const message = `crossEntropy: target ${C} is out of range [0, ${C}) and is not the ignore index -100`
    expect(() => ops.crossEntropy(cpu.tensor(randomArray(2 * C, 6), [2, C]), cpu.tensor(bad, [2]))).toThrow(message)
    const loss = ops.crossEntropy(gpu.tensor(randomArray(2 * C, 6), [2, C]), gpu.tensor(bad, [2]), { reduction: 'none' })
    const error = await loss.read().catch((e: unknown) => e) // before: a NaN row, silently
    expect(error).toBeInstanceOf(ShapeError)
    expect((error as Error).message).toBe(message)
    expect((await loss.read())[1]).toBeNaN()
    expect(() => ops.crossEntropy(gpu.tensor(new Float32Array(2 * C), [2, C]), gpu.tensor(new Int32Array(3), [3]))).toThrow(ShapeError)
    expect(() => ops.crossEntropy(gpu.tensor(new Float32Array(2 * C), [2, C]), gpu.tensor(new Float32Array(2), [2]))).toThrow(DTypeError)
  })
})

describe('gumbelSoftmax', () => {
  it('soft: softmax((x + g) / tau) with the same Gumbel draws, along any axis', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor(randomArray(3 * 4, 7), [3, 4])
    const y = await ops.gumbelSoftmax(x, { tau: 0.5, seed: 3 }).read()
    const g = ops.randomGumbel(cpu, [3, 4], { seed: 3 })
    expectClose(y, await ops.softmax(ops.div(ops.add(x, g), 0.5)).read(), 1e-5, 1e-6)
    // axis 0: the same draws, laid out for the transposed problem.
    const y0 = await ops.gumbelSoftmax(x, { axis: 0, seed: 3 }).read()
    const gT = ops.randomGumbel(cpu, [4, 3], { seed: 3 })
    expectClose(y0, await ops.transpose(ops.softmax(ops.add(ops.transpose(x), gT))).read(), 1e-5, 1e-6)
    await compareBackends((d) => ops.gumbelSoftmax(d.tensor(randomArray(5 * 33, 8), [5, 33]), { tau: 0.7, seed: 4, offset: 10 }), { rtol: 1e-4, atol: 1e-6 })
  })

  it('hard: exact one-hot of the soft argmax forward, soft gradients backward', async () => {
    const gpu = await gpuDevice()
    const data = randomArray(4 * 6, 9)
    const w = gpu.tensor(randomArray(4 * 6, 10), [4, 6])
    const gradOf = async (hard: boolean) => {
      const x = gpu.tensor(data, [4, 6], { requiresGrad: true })
      const y = ops.gumbelSoftmax(x, { hard, tau: 0.8, seed: 5 })
      tidy(() => ops.sum(ops.mul(y, w)).backward())
      return { y: await y.read(), g: await x.grad!.read() }
    }
    const soft = await gradOf(false)
    const hard = await gradOf(true)
    for (let r = 0; r < 4; r++) {
      const row = Array.from(soft.y.subarray(r * 6, r * 6 + 6))
      const expected = row.map((v) => +(v === Math.max(...row)))
      expect(Array.from(hard.y.subarray(r * 6, r * 6 + 6))).toEqual(expected)
    }
    expectClose(hard.g, soft.g, 1e-6, 1e-7)
    await gradcheck([{ shape: [3, 4] }], ([x]) => ops.gumbelSoftmax(x!, { tau: 0.7, seed: 6 }))
    await compareBackendGrads([{ shape: [3, 4] }], ([x]) => ops.gumbelSoftmax(x!, { hard: true, axis: 0, seed: 6 }))
  })
})

describe('straightThrough', () => {
  it('has the forward tensor\'s value and passes its gradient to the other as is', async () => {
    const cpu = await cpuDevice()
    const forward = cpu.tensor([0, 1, 0, 1], [2, 2])
    const x = cpu.tensor([0.3, -0.2, 0.5, 0.1], [2, 2], { requiresGrad: true })
    const w = cpu.tensor([1, 2, 3, 4], [2, 2])
    const y = ops.straightThrough(forward, ops.mul(x, 3))
    expect(Array.from(await y.read())).toEqual([0, 1, 0, 1])
    tidy(() => ops.sum(ops.mul(y, w)).backward())
    expectClose(await x.grad!.read(), [3, 6, 9, 12], 1e-6)
    expect(() => ops.straightThrough(forward, cpu.tensor([1, 2, 3, 4], [4]))).toThrow(ShapeError)
  })
})

describe('mseLoss', () => {
  it('value and gradients for each reduction', async () => {
    const cpu = await cpuDevice()
    const [a, b] = [randomArray(6, 1), randomArray(6, 2)]
    const expected = Array.from(a, (v, i) => (v - b[i]!) ** 2)
    expectClose(await ops.mseLoss(cpu.tensor(a, [2, 3]), cpu.tensor(b, [2, 3])).read(), [expected.reduce((s, v) => s + v) / 6], 1e-5)
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck([{ shape: [2, 3] }, { shape: [2, 3] }], ([a, b]) => ops.mseLoss(a!, b!, { reduction }))
    }
    expect(() => ops.mseLoss(cpu.tensor(a, [6]), cpu.tensor(b, [2, 3]))).toThrow(ShapeError)
  })
})
