import { describe, expect, it } from 'vitest'
import { ops, ShapeError, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

describe('layout ops: values', () => {
  it('reshape with -1 shares storage; squeeze/unsqueeze', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor(randomArray(24, 1), [2, 3, 4])
    const y = ops.reshape(x, [4, -1])
    expect(y.shape).toEqual([4, 6])
    expect(Array.from(await y.read())).toEqual(Array.from(await x.read()))
    expect(ops.unsqueeze(x, -1).shape).toEqual([2, 3, 4, 1])
    expect(ops.squeeze(ops.reshape(x, [2, 1, 12, 1])).shape).toEqual([2, 12])
    expect(() => ops.reshape(x, [5, -1])).toThrow(ShapeError)
    expect(() => ops.reshape(x, [-1, -1])).toThrow(ShapeError)
    expect(() => ops.squeeze(x, 0)).toThrow(ShapeError)
  })

  it('permute and transpose match a host transpose and the CPU', async () => {
    const cpu = await cpuDevice()
    const data = randomArray(2 * 3 * 4, 2)
    const y = await ops.permute(cpu.tensor(data, [2, 3, 4]), [2, 0, 1]).read()
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) expect(y[c * 6 + a * 3 + b]).toBe(data[a * 12 + b * 4 + c])
    await compareBackends((d) => {
      const x = d.tensor(randomArray(3 * 5 * 7 * 11, 3), [3, 5, 7, 11])
      return [ops.permute(x, [3, 1, 0, 2]), ops.permute(x, [0, 2, 1, 3]), ops.transpose(x), ops.transpose(x, 0, -1), ops.permute(d.tensor(randomInts(6 * 7, 4, -9, 9), [6, 7]), [1, 0])]
    })
    expect(() => ops.permute(cpu.tensor(data, [2, 3, 4]), [0, 0, 1])).toThrow(ShapeError)
  })

  it('slice with steps, negative and clamped bounds, and empty results', async () => {
    const cpu = await cpuDevice()
    const x = cpu.tensor(Float32Array.from({ length: 10 }, (_, i) => i), [10])
    expect(Array.from(await ops.slice(x, [{ start: 1, end: 8, step: 3 }]).read())).toEqual([1, 4, 7])
    expect(Array.from(await ops.slice(x, [{ start: -3 }]).read())).toEqual([7, 8, 9])
    expect(Array.from(await ops.slice(x, [{ start: -100, end: 2 }]).read())).toEqual([0, 1])
    expect(ops.slice(x, [{ start: 5, end: 2 }]).shape).toEqual([0])
    expect(() => ops.slice(x, [{ step: 0 }])).toThrow(ShapeError)
    await compareBackends((d) => {
      const t = d.tensor(randomArray(4 * 9 * 13, 5), [4, 9, 13])
      return [
        ops.slice(t, [{ start: 1, end: -1 }, { step: 2 }, { start: -5, step: 3 }]),
        ops.slice(t, [undefined, { start: 8 }]),
        ops.slice(t, [{ start: 3, end: 3 }]),
      ]
    })
  })

  it('concat along each axis, incl. empty parts; pad with a value', async () => {
    await compareBackends((d) => {
      const a = d.tensor(randomArray(2 * 3 * 5, 6), [2, 3, 5])
      const b = d.tensor(randomArray(2 * 4 * 5, 7), [2, 4, 5])
      const e = d.tensor(new Float32Array(0), [2, 0, 5])
      const c = d.tensor(randomArray(2 * 3 * 2, 8), [2, 3, 2])
      return [
        ops.concat([a, b, e, a], 1),
        ops.concat([a, c], -1),
        ops.concat([a, a, a], 0),
        ops.pad(a, [[1, 2], [0, 0], [3, 1]]),
        ops.pad(a, [[0, 1]], -7),
        ops.pad(d.tensor(randomInts(6, 9, 0, 5), [6]), [[2, 0]], 9),
      ]
    })
    const gpu = await gpuDevice()
    expect(() => ops.concat([gpu.tensor(new Float32Array(6), [2, 3]), gpu.tensor(new Float32Array(6), [3, 2])], 0)).toThrow(ShapeError)
    expect(() => ops.pad(gpu.tensor(new Float32Array(6), [2, 3]), [[-1, 0]])).toThrow(ShapeError)
  })
})

describe('layout ops: gradients', () => {
  it('finite differences on the CPU and WebGPU vs CPU', async () => {
    const cases: [string, number[][], (xs: Tensor[]) => Tensor][] = [
      ['reshape', [[2, 6]], ([x]) => ops.reshape(x!, [3, -1])],
      ['permute', [[2, 3, 2]], ([x]) => ops.permute(x!, [2, 0, 1])],
      ['transpose', [[3, 4]], ([x]) => ops.transpose(x!)],
      ['slice', [[4, 5]], ([x]) => ops.slice(x!, [{ start: 1, step: 2 }, { start: -4, end: -1 }])],
      ['concat', [[2, 3], [2, 2]], ([a, b]) => ops.concat([a!, b!, a!], 1)],
      ['pad', [[2, 3]], ([x]) => ops.pad(x!, [[1, 0], [2, 1]], 0.5)],
      ['squeeze', [[3, 1, 2]], ([x]) => ops.unsqueeze(ops.squeeze(x!, 1), 0)],
    ]
    for (const [name, shapes, op] of cases) {
      const inputs = shapes.map((shape, k) => ({ shape, seed: k + 1 }))
      try {
        await gradcheck(inputs, op)
        await compareBackendGrads(inputs, op)
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
  })
})
