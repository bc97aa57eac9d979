import { describe, expect, it } from 'vitest'
import { record } from '../src/autograd.js'
import { ops, ShapeError, type Device, type Tensor } from '../src/index.js'
import { compareBackends, cpuDevice, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck, type GradInput } from './gradcheck.js'

// 1031 is prime: no workgroup size divides it.
const SIZE = 1031
const UNARY = ['neg', 'exp', 'abs', 'square', 'sin', 'cos', 'relu', 'sigmoid', 'tanh', 'quickGelu'] as const
const POSITIVE = ['log', 'sqrt', 'rsqrt', 'reciprocal'] as const
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const
const COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const

/** Values kept at least `gap` from 0 so |x|, relu and friends are smooth within ±eps. */
const awayFromZero = (n: number, seed: number, gap = 0.1) => Float32Array.from(randomArray(n, seed, -2, 2), (v) => (v < 0 ? v - gap : v + gap))

describe('elementwise forward: WebGPU vs CPU', () => {
  it('every unary op, incl. tanh/gelu far in the tails', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(SIZE, 1, -6, 6), [SIZE])
      const pos = d.tensor(randomArray(SIZE, 2, 0.05, 9), [SIZE])
      const tails = d.tensor(Float32Array.from([-100, -44, -10, 0, 10, 44, 100]), [7])
      return [
        ...UNARY.map((op) => ops[op](x)),
        ...POSITIVE.map((op) => ops[op](pos)),
        ops.gelu(x),
        ops.gelu(x, { approximate: 'none' }),
        ops.tanh(tails),
        ops.gelu(tails),
        ops.sigmoid(tails),
      ]
    }, { rtol: 2e-5, atol: 2e-6 })
  })

  it('binary ops with broadcasting over size-1 dims, ranks, scalars and empty dims', async () => {
    const shapes: [number[], number[]][] = [
      [[SIZE], [SIZE]],
      [[3, 1, 5], [4, 1]],
      [[2, 3, 4, 5], [3, 1, 1]],
      [[1], [7, 9]],
      [[0, 3], [3]],
      [[6, 1, 7], [6, 0, 1]],
    ]
    await compareBackends((d) =>
      shapes.flatMap(([sa, sb], k) => {
        const a = d.tensor(randomArray(sa.reduce((x, y) => x * y, 1), 10 + k, 0.5, 3), sa)
        const b = d.tensor(randomArray(sb.reduce((x, y) => x * y, 1), 20 + k, 0.5, 3), sb)
        return [...BINARY.map((op) => ops[op](a, b)), ops.pow(a, b), ...COMPARE.map((op) => ops[op](a, b))]
      }),
    )
    await compareBackends((d) => {
      const a = d.tensor(randomArray(SIZE, 3, -3, 3), [SIZE])
      return [...BINARY.map((op) => ops[op](a, 1.5)), ...BINARY.map((op) => ops[op](-2.5, a)), ops.pow(a, 2), ops.pow(a, 3), ops.pow(a, 0), ops.pow(2, a)]
    })
  })

  it('gives the broadcast shape and rejects shapes that do not broadcast', async () => {
    const gpu = await gpuDevice()
    expect(ops.add(gpu.tensor(new Float32Array(3), [3, 1, 1]), gpu.tensor(new Float32Array(8), [2, 4])).shape).toEqual([3, 2, 4])
    expect(ops.mul(gpu.tensor(new Float32Array(0), [2, 0]), gpu.tensor(new Float32Array(1), [1])).shape).toEqual([2, 0])
    expect(() => ops.add(gpu.tensor(new Float32Array(6), [2, 3]), gpu.tensor(new Float32Array(4), [4]))).toThrow(ShapeError)
    expect(() => ops.broadcastTo(gpu.tensor(new Float32Array(6), [2, 3]), [3, 3])).toThrow(ShapeError)
  })

  it('integer arithmetic wraps like WGSL (i32 and u32), incl. division by zero', async () => {
    const cpu = await cpuDevice()
    const big = Int32Array.from([2147483647, -2147483648, 7, -7, 5, 0])
    const other = Int32Array.from([1, -1, 2, 2, 0, 0])
    const div = await ops.div(cpu.tensor(big, [6]), cpu.tensor(other, [6])).read()
    // WGSL: x / 0 = x, and INT_MIN / -1 = INT_MIN.
    expect(Array.from(div)).toEqual([2147483647, -2147483648, 3, -3, 5, 0])
    await compareBackends((d) => {
      const a = d.tensor(big, [6])
      const b = d.tensor(other, [6])
      const ua = d.tensor(Uint32Array.from([0, 1, 4294967295, 10, 3, 8]), [6])
      const ub = d.tensor(Uint32Array.from([1, 2, 1, 3, 0, 8]), [6])
      return [...BINARY.map((op) => ops[op](a, b)), ...BINARY.map((op) => ops[op](ua, ub)), ...COMPARE.map((op) => ops[op](a, b)), ops.mul(a, 3), ops.sub(ua, 5), ops.abs(a), ops.neg(a)]
    })
  })

  it('where (f32, i32 and u32 conditions), clamp and cast between all dtypes', async () => {
    await compareBackends((d) => {
      const x = d.tensor(randomArray(SIZE, 4, -300, 300), [SIZE])
      const y = d.tensor(randomArray(SIZE, 5), [SIZE])
      const ints = d.tensor(randomInts(SIZE, 6, -3, 3), [SIZE])
      const condU = ops.gt(x, 0)
      return [
        ops.where(condU, x, y),
        ops.where(ints, x, -1),
        ops.where(ops.cast(ints, 'f32'), 2, y),
        ops.where(d.tensor(randomInts(7, 7, 0, 2), [7, 1]), ops.reshape(ops.slice(x, [{ end: 21 }]), [7, 3]), 0),
        ops.clamp(x, -50, 20),
        ops.cast(x, 'i32'),
        ops.cast(x, 'u32'),
        ops.cast(ints, 'f32'),
        ops.cast(ints, 'u32'),
        ops.cast(ops.cast(ints, 'u32'), 'i32'),
        ops.cast(condU, 'f32'),
      ]
    })
  })

  it('f16 storage computes in f32 and rounds on store', async (ctx) => {
    const gpu = await gpuDevice()
    ctx.skip(!gpu.backend.supportsF16, 'the adapter lacks shader-f16')
    await compareBackends((d) => {
      const x = d.tensor(randomArray(SIZE, 8, -4, 4), [SIZE], { dtype: 'f16' })
      const y = d.tensor(randomArray(SIZE, 9, -4, 4), [SIZE], { dtype: 'f16' })
      return [ops.add(x, y), ops.mul(x, 0.3), ops.exp(x), ops.gelu(x), ops.cast(x, 'f32'), ops.cast(ops.cast(x, 'f32'), 'f16')]
    }, { rtol: 1e-3, atol: 1e-3 })
  })

  it('contiguous operands in whole quads (the vec4 path): every dtype, scalars, where, casts', async () => {
    const n = 4 * SIZE
    const gpu = await gpuDevice()
    await compareBackends((d) => {
      const x = d.tensor(randomArray(n, 11, -300, 300), [n])
      const y = d.tensor(randomArray(n, 12), [n])
      const ints = d.tensor(randomInts(n, 13, -3, 3), [n])
      const uints = ops.cast(ops.abs(ints), 'u32')
      const half = gpu.backend.supportsF16 ? [ops.mul(ops.cast(y, 'f16'), ops.cast(x, 'f16')), ops.cast(ops.cast(y, 'f16'), 'f32')] : []
      return [
        ...UNARY.map((op) => ops[op](y)),
        ...BINARY.map((op) => ops[op](x, y)),
        ops.sub(x, 2.5),
        ops.where(ops.gt(x, 0), x, y),
        ops.where(ints, x, -1),
        ops.clamp(x, -50, 20),
        ops.cast(x, 'i32'),
        ops.mul(ints, ints),
        ops.add(uints, 7),
        ...half,
      ]
    }, { rtol: 2e-5, atol: 2e-6 })
  })

  it('covers grids past 65535 workgroups per dimension (folded dispatch)', async () => {
    const gpu = await gpuDevice()
    const n = 65535 * 256 + 7
    const x = ops.arange(gpu, n)
    const y = ops.add(x, 1)
    const v = await y.read()
    let bad = -1
    for (let i = 0; i < n; i++) {
      if (v[i] !== i + 1) {
        bad = i
        break
      }
    }
    expect(bad).toBe(-1)
    x.dispose()
    y.dispose()
  })
})

const unaryGrad = (op: (x: Tensor) => Tensor, data?: Float32Array): [GradInput[], ([x]: Tensor[]) => Tensor] => [
  [{ shape: [2, 5], data }],
  ([x]) => op(x!),
]

describe('elementwise backward', () => {
  it('gradcheck catches a wrong gradient', async () => {
    const wrongSquare = ([x]: Tensor[]) => {
      const y = ops.square(ops.copy(x!))
      const z = ops.copy(y)
      record(z, 'wrong', [x!], (g) => [ops.mul(g, x!)])
      return z
    }
    await expect(gradcheck([{ shape: [4] }], wrongSquare)).rejects.toThrow(/mismatch/)
  })

  it('unary ops: finite differences on the CPU and WebGPU vs CPU', async () => {
    const smooth = randomArray(10, 31, -2, 2)
    const kinks = awayFromZero(10, 32)
    const positive = randomArray(10, 33, 0.5, 2)
    const cases: [string, (x: Tensor) => Tensor, Float32Array][] = [
      ...UNARY.map((op) => [op, ops[op], ['abs', 'relu'].includes(op) ? kinks : smooth] as [string, (x: Tensor) => Tensor, Float32Array]),
      ...POSITIVE.map((op) => [op, ops[op], positive] as [string, (x: Tensor) => Tensor, Float32Array]),
      ['gelu', (x) => ops.gelu(x), smooth],
      ['geluErf', (x) => ops.gelu(x, { approximate: 'none' }), smooth],
      ['clamp', (x) => ops.clamp(x, -1, 1), kinks.map((v) => (Math.abs(Math.abs(v) - 1) < 0.05 ? v * 1.2 : v))],
      ['cast', (x) => ops.cast(x, 'f32'), smooth],
      ['broadcastTo', (x) => ops.broadcastTo(ops.reshape(x, [2, 1, 5]), [2, 3, 5]), smooth],
    ]
    for (const [name, op, data] of cases) {
      try {
        await gradcheck(...unaryGrad(op, data))
        await compareBackendGrads(...unaryGrad(op, data))
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
  })

  it('binary ops with broadcasting, scalar operands and where', async () => {
    const inputs: GradInput[] = [
      // No pair closer than eps: maximum/minimum are smooth there.
      { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => 0.55 + 0.125 * i) },
      { shape: [4], data: Float32Array.from([0.6, 1, 1.5, 1.9]) },
    ]
    const cases: [string, (a: Tensor, b: Tensor, d: Device) => Tensor][] = [
      ...BINARY.map((op) => [op, (a: Tensor, b: Tensor) => ops[op](a, b)] as [string, (a: Tensor, b: Tensor) => Tensor]),
      ['pow', (a, b) => ops.pow(a, b)],
      ['scalars', (a, b) => ops.add(ops.mul(ops.sub(2, a), ops.div(b, 3)), ops.pow(a, 2))],
      ['where', (a, b, d) => ops.where(d.tensor(Uint32Array.from([1, 0, 0, 1]), [4]), a, b)],
    ]
    for (const [name, op] of cases) {
      const build = ([a, b]: Tensor[], d: Device) => op(a!, b!, d)
      try {
        await gradcheck(inputs, build)
        await compareBackendGrads(inputs, build)
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
  })
})
