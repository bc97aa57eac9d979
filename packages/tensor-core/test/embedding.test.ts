import { describe, expect, it } from 'vitest'
import { DTypeError, ops, ShapeError, type Device, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

describe('embedding', () => {
  it('picks rows and matches the CPU, for ids of any shape', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    const w = randomArray(37 * 13, 1)
    const ids = Int32Array.from([3, 0, 36, 3, 5, 5])
    const y = await ops.embedding(cpu.tensor(ids, [2, 3]), cpu.tensor(w, [37, 13])).read()
    ids.forEach((id, j) => expect(Array.from(y.subarray(j * 13, (j + 1) * 13))).toEqual(Array.from(w.subarray(id * 13, (id + 1) * 13))))
    await compareBackends((d) => [
      ops.embedding(d.tensor(randomInts(2 * 300, 2, 0, 37), [2, 300]), d.tensor(w, [37, 13])),
      ops.embedding(d.tensor(new Int32Array(0), [0]), d.tensor(w, [37, 13])),
    ])
  })

  it('gradient sums the rows of repeated ids (deterministically) and leaves unused rows 0', async () => {
    const gpu = await gpuDevice()
    const w = gpu.tensor(randomArray(6 * 4, 3), [6, 4], { requiresGrad: true })
    const ids = gpu.tensor(Int32Array.from([1, 4, 1, 1]), [4])
    const g = gpu.tensor(Float32Array.from({ length: 16 }, (_, i) => i), [4, 4])
    ops.embedding(ids, w).backward(g)
    const gw = await w.grad!.read()
    expect(Array.from(gw.subarray(4, 8))).toEqual([0 + 8 + 12, 1 + 9 + 13, 2 + 10 + 14, 3 + 11 + 15])
    expect(Array.from(gw.subarray(16, 20))).toEqual([4, 5, 6, 7])
    expect(gw.subarray(0, 4).every((v) => v === 0)).toBe(true)
    await gradcheck([{ shape: [7, 3] }], ([w], d) => ops.embedding(d.tensor(Int32Array.from([6, 0, 2, 6, 6]), [5]), w!))
    await compareBackendGrads([{ shape: [50, 9] }], ([w], d) => ops.embedding(d.tensor(randomInts(300, 4, 0, 50), [3, 100]), w!))
    // One id everywhere (one long chain) and ids spanning more positions than a workgroup.
    await compareBackendGrads([{ shape: [3, 5] }], ([w], d) => ops.embedding(d.tensor(new Int32Array(700).fill(2), [700]), w!))
    await compareBackendGrads([{ shape: [400, 3] }], ([w], d) => ops.embedding(d.tensor(randomInts(1000, 5, 0, 400), [1000]), w!))
  })

  it('an out-of-range id is the same ShapeError on both backends: at once on the CPU, at the next read on WebGPU', async () => {
    const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
    const ids = Int32Array.from([1, 9, -1])
    expect(() => ops.embedding(cpu.tensor(ids, [3]), cpu.tensor(randomArray(8, 1), [4, 2]))).toThrow(/^index 9 is out of range \[0, 4\)$/)
    const w = gpu.tensor(randomArray(8, 1), [4, 2], { requiresGrad: true })
    const y = ops.embedding(gpu.tensor(ids, [3]), w) // before: zero rows, silently
    const error = await y.read().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ShapeError)
    expect((error as Error).message).toBe('index 9 is out of range [0, 4)') // the first one met
    // The fault is reported once; the rows are zeros and later reads work.
    expect(Array.from((await y.read()).subarray(2))).toEqual([0, 0, 0, 0])
    y.backward(gpu.tensor(new Float32Array(6).fill(1), [3, 2]))
    expect(Array.from(await w.grad!.read())).toEqual([0, 0, 1, 1, 0, 0, 0, 0])
    // Any read reports it, not only the faulty op's output.
    const other = gpu.tensor(Float32Array.from([5]), [1])
    ops.embedding(gpu.tensor(Int32Array.from([-3]), [1]), w)
    await expect(other.read()).rejects.toThrow(/^index -3 is out of range \[0, 4\)$/)
    expect(Array.from(await other.read())).toEqual([5])
  })

  it('gather and its gradient (scatter) report out-of-range indices the same way', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const x = d.tensor(Float32Array.from([10, 11, 12, 20, 21, 22]), [2, 3])
      const attempt = async () => ops.gather(x, 1, d.tensor(Int32Array.from([2, 0, 3, 1]), [2, 2])).read()
      await expect(attempt()).rejects.toThrow(/^index 3 is out of range \[0, 3\)$/)
    }
  })

  it('checks dtypes and shapes', async () => {
    const gpu = await gpuDevice()
    const w = gpu.tensor(new Float32Array(8), [4, 2])
    expect(() => ops.embedding(gpu.tensor(new Float32Array(2), [2]), w)).toThrow(DTypeError)
    expect(() => ops.embedding(gpu.tensor(new Int32Array(2), [2]), gpu.tensor(new Float32Array(8), [8]))).toThrow(ShapeError)
  })
})

describe('gather', () => {
  it('takes values along any axis and matches the CPU', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor(Float32Array.from([10, 11, 12, 20, 21, 22]), [2, 3])
    expect(Array.from(await ops.gather(x, 1, cpu.tensor(Int32Array.from([2, 0, 1, 1]), [2, 2])).read())).toEqual([12, 10, 21, 21])
    expect(Array.from(await ops.gather(x, 0, cpu.tensor(Int32Array.from([1, 0, 1]), [1, 3])).read())).toEqual([20, 11, 22])
    await compareBackends((d) => {
      const x = d.tensor(randomArray(3 * 5 * 7, 5), [3, 5, 7])
      return [0, 1, 2].map((axis) => {
        const shape = [3, 5, 7]
        shape[axis] = 4
        return ops.gather(x, axis - 3, d.tensor(randomInts(shape.reduce((a, b) => a * b), 6 + axis, 0, [3, 5, 7][axis]!), shape))
      })
    })
  })

  it('gradient scatters back to the picked positions', async () => {
    const build = (axis: number) => ([x]: Tensor[], d: Device) =>
      ops.gather(x!, axis, d.tensor(randomInts(12, 8, 0, 3), axis === 0 ? [4, 3] : [3, 4]))
    await gradcheck([{ shape: [3, 3] }], build(0))
    await gradcheck([{ shape: [3, 3] }], build(1))
    await compareBackendGrads([{ shape: [3, 3] }], build(1))
  })

  it('rejects mismatched index shapes', async () => {
    const gpu = await gpuDevice()
    expect(() => ops.gather(gpu.tensor(new Float32Array(6), [2, 3]), 1, gpu.tensor(new Int32Array(3), [3, 1]))).toThrow(ShapeError)
  })
})

describe('oneHot', () => {
  it('gives f32 one-hot rows; an out-of-range id is a ShapeError on both backends, as in torch.one_hot', async () => {
    await compareBackends((d) => ops.oneHot(d.tensor(Int32Array.from([0, 3, 2, 1, 3]), [5]), 4))
    const cpu = await cpuDevice()
    const y = await ops.oneHot(cpu.tensor(Int32Array.from([0, 3, 2, 1]), [2, 2]), 4).read()
    expect(Array.from(y)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0])
    expect(() => ops.oneHot(cpu.tensor(Int32Array.from([0]), [1]), 0)).toThrow(RangeError)
    for (const d of [cpu, await gpuDevice()]) {
      for (const bad of [-1, 4]) {
        const attempt = async () => ops.oneHot(d.tensor(Int32Array.from([0, bad, 2]), [3]), 4).read()
        await expect(attempt()).rejects.toThrow(new RegExp(`^index ${bad} is out of range \\[0, 4\\)$`))
      }
    }
  })
})
