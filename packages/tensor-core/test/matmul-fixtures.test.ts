import { describe, expect, it } from 'vitest'
import { ops } from '../src/index.js'
import { convMatmulFixtures as fx, uploadFixture } from './fixtures/load.js'
import { BACKENDS, expectClose } from './helpers.js'

describe.each(BACKENDS)('PyTorch matmul fixtures on %s', (_, device) => {
  it.each(fx.matmul)('$name', async (c) => {
    const d = await device()
    const y = ops.matmul(uploadFixture(d, c.a), uploadFixture(d, c.b), { transA: c.transA, transB: c.transB })
    expect(y.shape).toEqual(c.y.shape)
    expectClose(await y.read(), c.y.data, 1e-4, 1e-5)
  })
})
