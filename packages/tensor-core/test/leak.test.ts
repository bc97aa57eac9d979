import { describe, expect, it } from 'vitest'
import { ops, tidy, type MemoryInfo } from '../src/index.js'
import { gpuDevice, randomArray } from './helpers.js'

const ITERATIONS = 10_000
const WARMUP = 100
const READ_EVERY = 500

const totalBytes = (m: MemoryInfo) => m.inUseBytes + m.pooledBytes + m.pendingBytes

describe('memory', () => {
  it(`a small training-like graph in tidy() for ${ITERATIONS} iterations does not grow device memory`, async () => {
    const gpu = await gpuDevice()
    const x = gpu.tensor(randomArray(8 * 16, 1), [8, 16])
    const w = gpu.tensor(randomArray(16 * 4, 2), [16, 4], { requiresGrad: true })
    const step = () =>
      tidy(() => {
        const h = ops.matmul(ops.gelu(ops.mul(ops.add(x, 0.5), 2)), w)
        const loss = ops.mean(ops.square(ops.sub(ops.softmax(h), 0.25)))
        loss.backward()
        return ops.max(h, 1)
      })
    let baseline: MemoryInfo | null = null
    for (let i = 1; i <= ITERATIONS; i++) {
      const out = step()
      if (i % READ_EVERY === 0) await out.read()
      out.dispose()
      if (i === WARMUP) {
        await gpu.sync()
        baseline = gpu.memory()
      }
      if (baseline && i % READ_EVERY === 0) {
        const now = gpu.memory()
        expect(now.storages, `live storages at iteration ${i}`).toBe(baseline.storages)
        expect(totalBytes(now), `device bytes at iteration ${i}`).toBeLessThanOrEqual(totalBytes(baseline))
      }
    }
    // Only the inputs and w's gradient are alive.
    expect(gpu.memory().storages).toBe(3)
    for (const t of [x, w]) t.dispose()
  }, 180_000) // a leak check, not a speed check: a loaded machine must not fail it
})
