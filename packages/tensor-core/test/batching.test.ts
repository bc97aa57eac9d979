import { describe, expect, it } from 'vitest'
import { Device, DeviceLimitError, inSlices, itemsPerPass, measurePeakBytes, ops, tidy, type Tensor } from '../src/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

const cpu = (maxTensorBytes?: number) => Device.create({ backend: 'cpu', maxTensorBytes })

describe('batch splitting under Device.maxTensorBytes', () => {
  it('measurePeakBytes: the largest buffer a pass allocates, nested measurements included', async () => {
    const d = await cpu()
    const live = d.memory().storages
    expect(measurePeakBytes(d, () => [ops.zeros(d, [1000]), ops.zeros(d, [10])])).toBe(4000)
    // An inner measurement does not hide its allocations from an outer one.
    const outer = measurePeakBytes(d, () => {
      expect(measurePeakBytes(d, () => ops.zeros(d, [500]))).toBe(2000)
      ops.zeros(d, [100])
    })
    expect(outer).toBe(2000)
    expect(d.memory().storages).toBe(live) // the passes' tensors are freed
    // A refused allocation still counts: it is what did not fit.
    const small = await cpu(1024)
    expect(measurePeakBytes(small, () => expect(() => ops.zeros(small, [1000])).toThrow(DeviceLimitError))).toBe(4000)
  })

  it('itemsPerPass: the limit over one item’s peak, measured once per key and shape', async () => {
    const d = await cpu(4096)
    let passes = 0
    const onePass = () => (passes++, ops.zeros(d, [256])) // 1 KiB per item
    expect(itemsPerPass(d, onePass)).toBe(4)
    expect(itemsPerPass(d, onePass)).toBe(4)
    expect(passes).toBe(2) // no key: measured each time
    const key = {}
    expect(itemsPerPass(d, onePass, { key, shape: 'a' })).toBe(4)
    expect(itemsPerPass(d, onePass, { key, shape: 'a' })).toBe(4)
    expect(passes).toBe(3)
    expect(itemsPerPass(d, () => (passes++, ops.zeros(d, [512])), { key, shape: 'b' })).toBe(2)
    expect(itemsPerPass(d, () => ops.zeros(d, [1000]))).toBe(1)
    expect(() => itemsPerPass(d, () => ops.zeros(d, [2000]))).toThrow(DeviceLimitError) // not even one item fits
    const unlimited = await cpu(Infinity)
    expect(itemsPerPass(unlimited, () => expect.unreachable())).toBe(Infinity)
  })

  it('inSlices: a batch too large for one pass gives the results of one pass', async () => {
    const host = Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i))
    const weights = Float32Array.from({ length: 4 * 32 }, (_, i) => Math.cos(i))
    // 128 bytes per item in the middle, 4 in the result.
    const pass = (x: Tensor, w: Tensor) => ops.sum(ops.relu(ops.matmul(x, w)), 1)
    const free = await cpu(Infinity)
    const expected = await tidy(() => pass(free.tensor(host, [8, 4]), free.tensor(weights, [4, 32]))).read()

    const d = await cpu(512) // w is 512 bytes; the whole batch's middle would be 1 KiB
    const x = d.tensor(host, [8, 4])
    const w = d.tensor(weights, [4, 32])
    expect(() => tidy(() => pass(x, w))).toThrow(DeviceLimitError)
    const sizes: number[] = []
    const run = (s: Tensor) => (sizes.push(s.shape[0]!), pass(s, w))
    const live = d.memory().storages
    const key = {}
    const out = inSlices(x, run, { key })
    expect(sizes).toEqual([1, 4, 4]) // one item measured, then 512 / 128 = 4 per pass
    expect(Array.from(await out.read())).toEqual(Array.from(expected))
    expect(d.memory().storages).toBe(live + 1) // only the result is left
    sizes.length = 0
    inSlices(x, run, { key }).dispose()
    expect(sizes).toEqual([4, 4]) // measured before
    // What fits runs as one pass, as without inSlices.
    sizes.length = 0
    inSlices(ops.slice(x, [{ start: 0, end: 3 }]), run, { key }).dispose()
    expect(sizes).toEqual([3])
  })
})
