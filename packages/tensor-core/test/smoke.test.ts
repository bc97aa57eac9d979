import { describe, it, expect } from 'vitest'
import { ops } from '../src/index.js'
import { compareBackends, gpuDevice, randomArray } from './helpers.js'

describe('smoke', () => {
  it('adds with broadcasting', async () => {
    const d = await gpuDevice()
    const a = d.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])
    const b = d.tensor(new Float32Array([10, 20, 30]), [3])
    expect([...(await ops.add(a, b).read())]).toEqual([11, 22, 33, 14, 25, 36])
  })
  it('matches cpu', async () => {
    await compareBackends((d) => {
      const a = d.tensor(randomArray(60, 1), [3, 4, 5])
      const b = d.tensor(randomArray(5, 2), [1, 5])
      return [ops.mul(ops.exp(a), b), ops.sum(a, 1), ops.max(a, [0, 2]), ops.permute(a, [2, 0, 1]), ops.slice(a, [{ start: 1 }, undefined, { step: 2 }]), ops.logsumexp(a, -1), ops.argmax(a, 1)]
    })
  })
})
