import { describe, expect, it } from 'vitest'
import { ops } from '../src/index.js'
import { convMatmulFixtures as fx, uploadFixture } from './fixtures/load.js'
import { BACKENDS, expectClose } from './helpers.js'

describe.each(BACKENDS)('PyTorch fixtures on %s', (_, device) => {
  it.each(fx.conv2d)('conv2d $name', async (c) => {
    const d = await device()
    const y = ops.conv2d(uploadFixture(d, c.x), uploadFixture(d, c.weight), { bias: c.bias ? uploadFixture(d, c.bias) : undefined, stride: c.stride, padding: c.padding })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 1e-4, 1e-5)
  })

  it.each(fx.maxPool2d)('maxPool2d $name', async (c) => {
    const d = await device()
    const y = ops.maxPool2d(uploadFixture(d, c.x), { kernel: c.kernel, stride: c.stride })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 0, 0)
  })
})
