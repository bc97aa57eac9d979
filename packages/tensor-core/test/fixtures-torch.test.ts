import { readFileSync } from 'node:fs'
import { describe, it } from 'vitest'
import { ops, tidy, type Device, type Tensor } from '../src/index.js'
import { cpuDevice, expectClose, gpuDevice } from './helpers.js'

/** Written by fixtures/make_op_fixtures.py (PyTorch, float64 from float32 inputs). */
interface Encoded {
  shape: number[]
  dtype: 'f32' | 'i32'
  data: number[]
}
interface Case {
  name: string
  op: string
  options: Record<string, number | string>
  inputs: Record<string, Encoded>
  w: Encoded
  output: Encoded
  grads: Record<string, Encoded>
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/ops.json', import.meta.url), 'utf8')) as { cases: Case[] }

const OPS: Record<string, (x: Record<string, Tensor>, o: Case['options']) => Tensor> = {
  softmax: ({ x, mask }) => ops.softmax(x!, { mask }),
  logSoftmax: ({ x, mask }) => ops.logSoftmax(x!, { mask }),
  layerNorm: ({ x, weight, bias }, o) => ops.layerNorm(x!, { weight, bias, eps: o.eps as number }),
  gelu: ({ x }, o) => ops.gelu(x!, { approximate: o.approximate as 'tanh' | 'none' }),
  quickGelu: ({ x }) => ops.quickGelu(x!),
  crossEntropy: ({ x, targets }, o) => ops.crossEntropy(x!, targets!, o),
}

const toTensor = (d: Device, e: Encoded, requiresGrad: boolean) =>
  d.tensor(e.dtype === 'i32' ? Int32Array.from(e.data) : Float32Array.from(e.data), e.shape, { requiresGrad })

/** Output and input gradients of Σ y ⊙ w, as PyTorch's fixture defines them. */
async function run(d: Device, c: Case): Promise<{ y: ArrayLike<number>; grads: Record<string, ArrayLike<number>> }> {
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, e]) => [k, toTensor(d, e, k in c.grads)]))
  const y = tidy(() => {
    const out = OPS[c.op]!(inputs, c.options)
    ops.sum(ops.mul(out, toTensor(d, c.w, false))).backward()
    return out
  })
  const grads: Record<string, ArrayLike<number>> = {}
  for (const k of Object.keys(c.grads)) grads[k] = await inputs[k]!.grad!.read()
  const values = await y.read()
  y.dispose()
  Object.values(inputs).forEach((t) => t.dispose())
  return { y: values, grads }
}

describe('PyTorch fixtures (fixtures/make_op_fixtures.py)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      for (const d of [await cpuDevice(), await gpuDevice()]) {
        const { y, grads } = await run(d, c)
        const where = `${c.name} on ${d.kind}`
        try {
          expectClose(y, c.output.data, 1e-4, 1e-5)
          for (const [k, g] of Object.entries(c.grads)) expectClose(grads[k]!, g.data, 1e-4, 1e-5)
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`)
        }
      }
    })
  }
})
