import { describe, expect, it } from 'vitest'
import { ops, ShapeError, tidy, type Tensor } from '../src/index.js'
import { BACKENDS, compareBackends, countDispatches, cpuDevice, expectClose, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

describe('reduce of a rank-0 tensor', () => {
  it('returns a new tensor and leaves the input (and its graph) intact', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const a = d.tensor([1, 2, 3], [3], { requiresGrad: true })
      const m = ops.mean(ops.square(a))
      const s = ops.sum(m)
      expect(m.disposed).toBe(false)
      expect(await s.item()).toBeCloseTo(14 / 3, 5)
      tidy(() => ops.sum(ops.mul(ops.max(m), 3)).backward())
      expect(Array.from(await a.grad!.read())).toEqual([2, 4, 6])
    }
  })
})

const SHAPE = [3, 5, 7]
const VALUE_OPS = ['sum', 'mean', 'max', 'min'] as const
const ARG_OPS = ['argmax', 'argmin'] as const

describe('reductions: WebGPU vs CPU', () => {
  it('every op along every axis, with and without keepDims', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(3 * 5 * 7, 1, -5, 5), SHAPE)
      return [0, 1, 2, -1].flatMap((axis) => [
        ...VALUE_OPS.map((op) => ops[op](x, axis)),
        ...VALUE_OPS.map((op) => ops[op](x, axis, { keepDims: true })),
        ...ARG_OPS.map((op) => ops[op](x, axis)),
        ops.argmax(x, axis, { keepDims: true }),
        ops.logsumexp(x, axis),
      ])
    }, { rtol: 1e-5, atol: 1e-5 })
  })

  it('several axes (adjacent and not), all axes, ties and integer dtypes', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(2 * 3 * 4 * 5, 2, -5, 5), [2, 3, 4, 5])
      const ties = d.tensor(Float32Array.from(randomArray(6 * 40, 3, 0, 3), Math.floor), [6, 40])
      const ints = d.tensor(randomInts(6 * 40, 4, -100, 100), [6, 40])
      const uints = d.tensor(Uint32Array.from(randomInts(6 * 40, 5, 0, 1000)), [6, 40])
      return [
        ops.sum(x, [0, 2]),
        ops.max(x, [1, 3], { keepDims: true }),
        ops.min(x, [0, 3]),
        ops.mean(x, [1, 2]),
        ops.logsumexp(x, [2, 3]),
        ops.sum(x),
        ops.mean(x),
        ops.max(x, undefined, { keepDims: true }),
        ops.argmax(ties, 1),
        ops.argmin(ties, 0),
        ops.sum(ints, 1),
        ops.max(ints, 0),
        ops.min(uints, 1),
        ops.argmax(uints, 1),
      ]
    }, { rtol: 1e-5, atol: 1e-5 })
  })

  it('rows longer than the workgroup, rows of length 1, empty tensors, more than 65535 rows, infinite rows', async () => {
    await compareBackends((d) => {
      const long = d.tensor(randomArray(3 * 1000, 6, -5, 5), [3, 1000])
      const single = d.tensor(randomArray(9, 7), [9, 1])
      const empty = d.tensor(new Float32Array(0), [0, 4])
      const manyRows = d.tensor(randomArray(70000 * 3, 8), [70000, 3])
      const negInf = d.tensor(Float32Array.from([-Infinity, -Infinity, 1, -Infinity]), [2, 2])
      const posInf = d.tensor(Float32Array.from([Infinity, Infinity, 1, Infinity]), [2, 2])
      return [
        ...VALUE_OPS.map((op) => ops[op](long, 1)),
        ops.argmax(long, 1),
        ops.argmin(long, 1),
        ops.logsumexp(long, 1),
        ops.sum(long, 0),
        ...VALUE_OPS.map((op) => ops[op](single, 1)),
        ops.argmax(single, 1),
        ops.logsumexp(single, 1),
        ops.sum(empty, 0),
        ops.sum(empty, 1),
        ops.mean(empty, 0),
        ops.sum(manyRows, 1),
        ops.max(manyRows, 1),
        ops.logsumexp(negInf, 1),
        ops.logsumexp(negInf, 0),
        ops.max(negInf, 1),
        ops.max(negInf, 0),
        ops.argmax(negInf, 1),
        ops.min(posInf, 1),
        ops.min(posInf, 0),
        ops.argmin(posInf, 0),
      ]
    }, { rtol: 1e-5, atol: 1e-4 })
  })

  it('f16 storage (accumulates in f32)', async (ctx) => {
    ctx.skip(!(await gpuDevice()).backend.supportsF16, 'the adapter lacks shader-f16')
    await compareBackends((d) => {
      const x = d.tensor(randomArray(4 * 300, 9, -2, 2), [4, 300], { dtype: 'f16' })
      return [ops.sum(x, 1), ops.mean(x, 0), ops.max(x, 1), ops.argmin(x, 1), ops.logsumexp(x, 1)]
    }, { rtol: 2e-3, atol: 2e-2 })
  })

  it('rejects bad axes', async () => {
    const gpu = await gpuDevice()
    const x = gpu.tensor(new Float32Array(6), [2, 3])
    expect(() => ops.sum(x, 2)).toThrow(ShapeError)
    expect(() => ops.argmax(x, -3)).toThrow(ShapeError)
  })
})

describe.each(BACKENDS)('two runs of axes, the first leading, in one dispatch (%s)', (_name, makeDevice) => {
  /** out[o][i] = combine of x[a][o][k][i] over a and k, in double precision. */
  function reference(x: Float32Array, [pre, outer, n, inner]: number[], combine: (a: number, b: number) => number): number[] {
    const out: number[] = []
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let acc = NaN
        for (let a = 0; a < pre; a++) for (let k = 0; k < n; k++) {
          const v = x[((a * outer + o) * n + k) * inner + i]!
          acc = Number.isNaN(acc) ? v : combine(acc, v)
        }
        out.push(acc)
      }
    return out
  }

  // A bias gradient's [0, 2, 3] with 20×20 and 5×7 pixels (row and column layouts), and [0, 2] of rank 4 (inner > 1).
  it.each([
    { shape: [3, 4, 20, 20], axes: [0, 2, 3], view: [3, 4, 400, 1] },
    { shape: [5, 6, 5, 7], axes: [0, 2, 3], view: [5, 6, 35, 1] },
    { shape: [2, 3, 4, 5], axes: [0, 2], view: [2, 3, 4, 5] },
    { shape: [2, 3, 300], axes: [0, 1, 2], view: [1, 1, 1800, 1] },
  ])('sum, max and min of $shape over $axes', async ({ shape, axes, view }) => {
    const d = await makeDevice()
    const data = randomArray(shape.reduce((a, b) => a * b, 1), 41, -3, 3)
    const x = d.tensor(data, shape)
    for (const [op, combine] of [['sum', (a: number, b: number) => a + b], ['max', Math.max], ['min', Math.min]] as const) {
      let y: Tensor | undefined
      const counts = countDispatches(d, () => (y = ops[op](x, axes)))
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(1)
      expectClose(await y!.read(), reference(data, view, combine), 1e-5, 1e-4)
    }
  })
})

describe('reduction gradients', () => {
  it('finite differences on the CPU and WebGPU vs CPU', async () => {
    // Distinct values (no ties within eps) keep max/min differentiable.
    const data = Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) * 0.1 - 1.2)
    const cases: [string, (x: Tensor) => Tensor][] = [
      ['sum', (x) => ops.sum(x, 1)],
      ['sum all', (x) => ops.sum(x)],
      ['sum keepDims', (x) => ops.sum(x, [0, 2], { keepDims: true })],
      ['mean', (x) => ops.mean(x, [1, 2])],
      ['max', (x) => ops.max(x, 2)],
      ['min', (x) => ops.min(x, [0, 1])],
      ['logsumexp', (x) => ops.logsumexp(x, -1)],
    ]
    for (const [name, op] of cases) {
      const inputs = [{ shape: [2, 3, 4], data }]
      try {
        await gradcheck(inputs, ([x]) => op(x!))
        await compareBackendGrads(inputs, ([x]) => op(x!))
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
  })

  it('ties share the max gradient equally', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor([1, 3, 3, 0], [4], { requiresGrad: true })
    ops.max(x).backward()
    expect(Array.from(await x.grad!.read())).toEqual([0, 0.5, 0.5, 0])
  })
})

describe('sumToShape', () => {
  it('is differentiable (sums broadcast dims; its gradient broadcasts back)', async () => {
    const d = await cpuDevice()
    const x = d.tensor(Float32Array.from({ length: 12 }, (_, i) => i), [2, 3, 2], { requiresGrad: true })
    const y = ops.sumToShape(x, [3, 1])
    expect([...(await y.read())]).toEqual([0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11])
    ops.sum(ops.mul(y, d.tensor(new Float32Array([1, 2, 3]), [3, 1]))).backward()
    expect([...(await x.grad!.read())]).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
  })
})
