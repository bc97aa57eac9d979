import { describe, expect, it } from 'vitest'
import { ops, ShapeError, type Device, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, expectClose, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

const [B, H, T, S] = [2, 3, 5, 37]
const LOWEST = -3.4028234663852886e38

/** A causal [T, S] keep-mask with row 1 fully masked. */
function causalKeep(): Int32Array {
  return Int32Array.from({ length: T * S }, (_, i) => {
    const [t, s] = [Math.floor(i / S), i % S]
    return +(t !== 1 && s <= t + S - T)
  })
}

describe('softmax / logSoftmax', () => {
  it('match the CPU with no mask, additive f32 masks (incl. -inf) and i32/u32 keep-masks broadcast over [B, H, T, S]', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(B * H * T * S, 1, -6, 6), [B, H, T, S])
      const keepI = d.tensor(causalKeep(), [T, S])
      const keepU = d.tensor(Uint32Array.from(causalKeep()), [1, 1, T, S])
      const add = d.tensor(randomArray(T * S, 2, -3, 0), [T, S])
      const perHead = d.tensor(randomInts(H * S, 3, 0, 2), [H, 1, S])
      // The usual additive causal mask: -inf where excluded, incl. the fully masked row 1.
      const negInf = d.tensor(Float32Array.from(causalKeep(), (k) => (k ? 0 : -Infinity)), [T, S])
      return [false, true].flatMap((log) => {
        const f = log ? ops.logSoftmax : ops.softmax
        return [f(x), f(x, { mask: keepI }), f(x, { mask: keepU }), f(x, { mask: add }), f(x, { mask: perHead }), f(x, { mask: negInf })]
      })
    }, { rtol: 1e-5, atol: 1e-6 })
  })

  it('fully masked rows give 0 (softmax) and the lowest float (logSoftmax), never NaN', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor(randomArray(T * S, 4), [T, S])
    const mask = cpu.tensor(causalKeep(), [T, S])
    const p = await ops.softmax(x, { mask }).read()
    const lp = await ops.logSoftmax(x, { mask }).read()
    expect(p.subarray(S, 2 * S).every((v) => v === 0)).toBe(true)
    expect(lp.subarray(S, 2 * S).every((v) => v === LOWEST)).toBe(true)
    for (const r of [0, 2, 3, 4]) expect(Array.from(p.subarray(r * S, (r + 1) * S)).reduce((a, b) => a + b)).toBeCloseTo(1, 5)
  })

  it('long rows, rows of length 1, more than 65535 rows', async () => {
    await compareBackends((d) => [
      ops.softmax(d.tensor(randomArray(3 * 2000, 5, -20, 20), [3, 2000])),
      ops.logSoftmax(d.tensor(randomArray(4, 6), [4, 1])),
      ops.softmax(d.tensor(randomArray(70000 * 3, 7), [70000, 3])),
    ], { rtol: 1e-5, atol: 1e-6 })
  })

  it('f16 storage with an f32 additive mask', async (ctx) => {
    ctx.skip(!(await gpuDevice()).backend.supportsF16, 'the adapter lacks shader-f16')
    await compareBackends((d) => {
      const x = d.tensor(randomArray(T * S, 13, -4, 4), [T, S], { dtype: 'f16' })
      const mask = d.tensor(randomArray(T * S, 14, -2, 0), [T, S])
      return [ops.softmax(x, { mask }), ops.logSoftmax(x), ops.layerNorm(x)]
    }, { rtol: 2e-3, atol: 2e-3 })
  })

  it('rejects a mask that does not broadcast', async () => {
    const cpu = await cpuDevice()
    expect(() => ops.softmax(cpu.tensor(new Float32Array(6), [2, 3]), { mask: cpu.tensor(new Int32Array(2), [2]) })).toThrow(ShapeError)
  })

  it('gradients, masked and not: finite differences and WebGPU vs CPU', async () => {
    const mask = (d: Device) => d.tensor(Int32Array.from([1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0]), [3, 4])
    const add = (d: Device) => d.tensor(randomArray(12, 8, -2, 0), [3, 4])
    const cases: [string, (x: Tensor, d: Device) => Tensor][] = [
      ['softmax', (x) => ops.softmax(x)],
      ['logSoftmax', (x) => ops.logSoftmax(x)],
      ['softmax bool mask', (x, d) => ops.softmax(x, { mask: mask(d) })],
      ['logSoftmax additive mask', (x, d) => ops.logSoftmax(x, { mask: add(d) })],
    ]
    for (const [name, op] of cases) {
      const inputs = [{ shape: [2, 3, 4] }]
      const build = ([x]: Tensor[], d: Device) => op(x!, d)
      try {
        await gradcheck(inputs, build)
        await compareBackendGrads(inputs, build)
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
    // Masked log-probabilities are the lowest float: finite differences of Σ y ⊙ w drown in
    // them, so the bool-masked logSoftmax is checked against PyTorch (fixtures) and here across backends.
    await compareBackendGrads([{ shape: [2, 3, 4] }], ([x], d) => ops.logSoftmax(x!, { mask: mask(d) }))
  })
})

describe('layerNorm', () => {
  it('matches a float64 reference and the CPU, with and without affine', async () => {
    const cpu = await cpuDevice()
    const data = randomArray(4 * 300, 9, -3, 5)
    const y = await ops.layerNorm(cpu.tensor(data, [4, 300])).read()
    const row = Array.from(data.subarray(300, 600))
    const mean = row.reduce((a, b) => a + b) / 300
    const std = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / 300 + 1e-5)
    expectClose(y.subarray(300, 600), row.map((v) => (v - mean) / std), 1e-4, 1e-5)
    await compareBackends((d) => {
      const x = d.tensor(data, [2, 2, 300])
      const w = d.tensor(randomArray(300, 10), [300])
      const b = d.tensor(randomArray(300, 11), [300])
      return [ops.layerNorm(x), ops.layerNorm(x, { weight: w, bias: b, eps: 1e-3 }), ops.layerNorm(d.tensor(randomArray(7 * 5, 12), [7, 5]))]
    }, { rtol: 1e-4, atol: 1e-5 })
    expect(() => ops.layerNorm(cpu.tensor(data, [4, 300]), { weight: cpu.tensor(new Float32Array(3), [3]), bias: cpu.tensor(new Float32Array(3), [3]) })).toThrow(ShapeError)
  })

  it('gradients (x, weight, bias): finite differences and WebGPU vs CPU', async () => {
    const inputs = [{ shape: [3, 6] }, { shape: [6], seed: 2 }, { shape: [6], seed: 3 }]
    const affine = ([x, w, b]: Tensor[]) => ops.layerNorm(x!, { weight: w!, bias: b! })
    await gradcheck(inputs, affine)
    await compareBackendGrads(inputs, affine)
    await gradcheck([{ shape: [3, 6] }], ([x]) => ops.layerNorm(x!))
    await compareBackendGrads([{ shape: [3, 6] }], ([x]) => ops.layerNorm(x!))
  })
})
