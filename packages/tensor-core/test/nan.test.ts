/**
 * NaN follows PyTorch on both backends (#20): relu, clamp, maximum/minimum keep a NaN; max, min
 * and logsumexp of a row holding one are NaN and argmax/argmin point at its first NaN; softmax
 * and log-softmax of such a row are NaN everywhere. Expected values are PyTorch 1.13's:
 *   x = torch.tensor([[1, nan, 3, 0]])
 *   relu(x) = [1, nan, 3, 0]; x.clamp(0, 2) = [1, nan, 2, 0]; maximum(x, 2) = [2, nan, 3, 2]
 *   x.max(-1) = (nan, 1); x.min(-1) = (nan, 1); softmax(x, -1) = [nan] * 4; logsumexp = nan
 *   torch.tensor([[nan, nan, 1]]).argmax(-1) = 0 (the first NaN)
 * WGSL lets an implementation drop NaNs in max/min/clamp (lavapipe's relu of NaN was 0 and its
 * softmax of such a row all zeros; the CPU backend's max skipped a NaN after the first element).
 */
import { describe, expect, it } from 'vitest'
import { ops, type Device, type Tensor } from '../src/index.js'
import { BACKENDS } from './helpers.js'

const nan = Number.NaN
const X = [1, nan, 3, 0]
const read = async (t: Tensor) => Array.from(await t.read())

describe.each(BACKENDS)('NaN as in PyTorch on %s', (_name, deviceOf) => {
  let d: Device
  const row = (values: number[]) => d.tensor(Float32Array.from(values), [1, values.length])

  it('relu, clamp, maximum, minimum and a fused relu keep a NaN', async () => {
    d = await deviceOf()
    expect(await read(ops.relu(row(X)))).toEqual([1, nan, 3, 0])
    expect(await read(ops.clamp(row(X), 0, 2))).toEqual([1, nan, 2, 0])
    expect(await read(ops.maximum(row(X), 2))).toEqual([2, nan, 3, 2])
    expect(await read(ops.minimum(row(X), 2))).toEqual([1, nan, 2, 0])
    expect(await read(ops.maximum(2, row(X)))).toEqual([2, nan, 3, 2])
    // relu fused into a matmul's epilogue: [4, 1] · [[1]]
    const column = d.tensor(Float32Array.from([-1, nan, 3, 0]), [4, 1])
    expect(await read(ops.matmul(column, d.tensor(Float32Array.from([1]), [1, 1]), { activation: 'relu' }))).toEqual([0, nan, 3, 0])
  })

  for (const n of [4, 300]) {
    it(`max, min, argmax, argmin, logsumexp of a row of ${n} holding NaNs${n >= 256 ? ' (the workgroup-per-row layout)' : ''}`, async () => {
      d = await deviceOf()
      const values = Array.from({ length: n }, (_, i) => (i % 7) - 3)
      values[1] = nan
      values[n - 1] = nan
      expect(await read(ops.max(row(values), -1))).toEqual([nan])
      expect(await read(ops.min(row(values), -1))).toEqual([nan])
      expect(await read(ops.argmax(row(values), -1))).toEqual([1])
      expect(await read(ops.argmin(row(values), -1))).toEqual([1])
      expect(await read(ops.logsumexp(row(values), -1))).toEqual([nan])
      // A NaN first, then a larger number: still the NaN.
      expect(await read(ops.argmax(row([nan, nan, ...values.slice(2, -1), 1e30]), -1))).toEqual([0])
      // Rows without NaN are untouched.
      const clean = values.map((v) => (Number.isNaN(v) ? 0 : v))
      const top = Math.max(...clean)
      expect(await read(ops.max(row(clean), -1))).toEqual([top])
      expect(await read(ops.argmax(row(clean), -1))).toEqual([clean.indexOf(top)])
    })
  }

  it('a reduction over a non-innermost axis: the NaN column is NaN, the others are not', async () => {
    d = await deviceOf()
    const x = d.tensor(Float32Array.from([1, nan, 5, 4, 2, 0]), [2, 3])
    expect(await read(ops.max(x, 0))).toEqual([4, nan, 5])
    expect(await read(ops.argmax(x, 0))).toEqual([1, 0, 0])
    expect(await read(ops.argmin(x, 0))).toEqual([0, 0, 1])
  })

  it('softmax and log-softmax of a row holding a NaN are NaN everywhere; other rows and empty masked rows are as before', async () => {
    d = await deviceOf()
    const x = d.tensor(Float32Array.from([...X, 1, 2, 3, 4]), [2, 4])
    const soft = await read(ops.softmax(x))
    expect(soft.slice(0, 4)).toEqual([nan, nan, nan, nan])
    expect(soft.slice(4).every((v) => v > 0 && v < 1)).toBe(true)
    expect((await read(ops.logSoftmax(x))).slice(0, 4)).toEqual([nan, nan, nan, nan])
    // A row with every position masked out still gives zeros, not NaN.
    const none = d.tensor(new Int32Array(8), [2, 4])
    expect(await read(ops.softmax(d.tensor(Float32Array.from([1, 2, 3, 4, 1, 2, 3, 4]), [2, 4]), { mask: none }))).toEqual(new Array(8).fill(0))
  })
})
