import { describe, expect, it } from 'vitest'
import { ops, profileKernels } from '../src/index.js'
import { cpuDevice, gpuDevice, randomArray } from './helpers.js'

describe('profileKernels', () => {
  it.each([['cpu', cpuDevice], ['webgpu', gpuDevice]] as const)('counts and times each distinct dispatch of a workload (%s)', async (_, device) => {
    const d = await device()
    const run = d.backend.run
    const a = d.tensor(randomArray(32 * 48, 1), [32, 48])
    const b = d.tensor(randomArray(48 * 16, 2), [48, 16])
    const profiles = await profileKernels(d, async () => {
      const y = ops.relu(ops.matmul(a, b))
      const z = ops.relu(ops.relu(y))
      await z.read()
      for (const t of [y, z]) t.dispose()
    })
    expect(d.backend.run).toBe(run)
    const relu = profiles.filter((p) => p.kernel === 'elementwise')
    expect(relu.map((p) => p.count)).toEqual([3]) // three relus of one shape: one distinct dispatch
    expect(profiles.filter((p) => p.kernel.startsWith('matmul')).length).toBeGreaterThan(0)
    for (const p of profiles) {
      expect(p.ms).toBeGreaterThanOrEqual(0)
      expect(p.totalMs).toBeCloseTo(p.ms * p.count)
    }
    expect(profiles.map((p) => p.totalMs)).toEqual([...profiles.map((p) => p.totalMs)].sort((x, y) => y - x))
    for (const t of [a, b]) t.dispose()
  })
})
