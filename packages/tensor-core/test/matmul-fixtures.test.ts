import { describe, expect, it } from 'vitest'
import { ops, type Device } from '../src/index.js'
import { convMatmulFixtures as fx, type FixtureTensor } from './fixtures/load.js'
import { cpuDevice, expectClose, gpuDevice } from './helpers.js'

const backends: [string, () => Promise<Device>][] = [
  ['cpu', cpuDevice],
  ['webgpu', gpuDevice],
]
const upload = (d: Device, t: FixtureTensor) => d.tensor(Float32Array.from(t.data), t.shape)

describe.each(backends)('PyTorch matmul fixtures on %s', (_, device) => {
  it.each(fx.matmul)('$name', async (c) => {
    const d = await device()
    const y = ops.matmul(upload(d, c.a), upload(d, c.b), { transA: c.transA, transB: c.transB })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 1e-4, 1e-5)
  })
})
