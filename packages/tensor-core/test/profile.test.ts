import { describe, expect, it } from 'vitest'
import { Device, ops, profileKernels } from '../src/index.js'
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

  it('replaying a kernel that checks its ids leaves no fault for the next read (webgpu)', async () => {
    // Replays run on scratch storages; stale pool memory read as ids made the embedding kernel
    // record an out-of-range fault, which the workload's next read then threw.
    const d = await Device.create({ backend: 'webgpu' }) // a pool holding only what this test parks
    const table = d.tensor(randomArray(8 * 4, 3), [8, 4])
    const ids = d.tensor(Int32Array.from([1, 7, 0]), [3])
    // Buffers full of out-of-range ids, parked in the pool for the replay's scratch.
    for (let i = 0; i < 8; i++) d.tensor(Int32Array.from({ length: 64 }, (_, j) => 1_000_000 + j), [64]).dispose()
    await d.sync()
    const workload = async () => {
      const y = ops.embedding(ids, table)
      await y.read()
      y.dispose()
    }
    await profileKernels(d, workload)
    await workload()
    for (const t of [table, ids]) t.dispose()
    d.destroy()
  })
})
