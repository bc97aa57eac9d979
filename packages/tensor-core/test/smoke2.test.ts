import { describe, it } from 'vitest'
import { ops } from '../src/index.js'
import { compareBackends, randomArray, randomInts } from './helpers.js'

describe('smoke2', () => {
  it('matmul/softmax/layerNorm match cpu', async () => {
    await compareBackends((d) => {
      const a = d.tensor(randomArray(2 * 37 * 19, 1), [2, 37, 19])
      const b = d.tensor(randomArray(19 * 45, 2), [19, 45])
      const bias = d.tensor(randomArray(45, 3), [45])
      const m = d.tensor(randomInts(37 * 45, 4, 0, 2), [37, 45])
      const w = d.tensor(randomArray(45, 5), [45])
      return [
        ops.matmul(a, b, { bias, activation: 'gelu' }),
        ops.matmul(a, a, { transB: true }),
        ops.matmul(a, a, { transA: true }),
        ops.softmax(ops.matmul(a, b), { mask: m }),
        ops.logSoftmax(ops.matmul(a, b)),
        ops.layerNorm(ops.matmul(a, b), { weight: w, bias }),
      ]
    }, { rtol: 1e-4, atol: 1e-5 })
  })
})
