import { describe, expect, it } from 'vitest'
import { ops, tidy } from '../src/index.js'
import { cpuDevice, gpuDevice } from './helpers.js'

describe('reduce of a rank-0 tensor', () => {
  it('returns a new tensor and leaves the input (and its graph) intact', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const a = d.tensor([1, 2, 3], [3], { requiresGrad: true })
      const m = ops.mean(ops.square(a))
      const s = ops.sum(m)
      expect(m.disposed).toBe(false)
      expect(await s.item()).toBeCloseTo(14 / 3, 5)
      tidy(() => ops.sum(ops.mul(ops.max(m), 3)).backward())
      expect(Array.from(await a.grad!.read())).toEqual([2, 4, 6])
    }
  })
})
