import { describe, expect, it } from 'vitest'
import { ops, type Device } from '../src/index.js'
import { convMatmulFixtures as fx, type FixtureTensor } from './fixtures/load.js'
import { cpuDevice, expectClose, gpuDevice } from './helpers.js'

const backends: [string, () => Promise<Device>][] = [
  ['cpu', cpuDevice],
  ['webgpu', gpuDevice],
]
const upload = (d: Device, t: FixtureTensor) => d.tensor(Float32Array.from(t.data), t.shape)

describe.each(backends)('PyTorch fixtures on %s', (_, device) => {
  it.each(fx.conv2d)('conv2d $name', async (c) => {
    const d = await device()
    const y = ops.conv2d(upload(d, c.x), upload(d, c.weight), { bias: c.bias ? upload(d, c.bias) : undefined, stride: c.stride, padding: c.padding })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 1e-4, 1e-5)
  })

  it.each(fx.maxPool2d)('maxPool2d $name', async (c) => {
    const d = await device()
    const y = ops.maxPool2d(upload(d, c.x), { kernel: c.kernel, stride: c.stride })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 0, 0)
  })
})
