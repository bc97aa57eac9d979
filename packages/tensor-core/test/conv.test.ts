import { describe, expect, it } from 'vitest'
import { noGrad, ops, type Device, type Tensor } from '../src/index.js'
import { BACKENDS, compareBackends, countDispatches, cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

interface ConvCase {
  x: [number, number, number, number]
  w: [number, number, number, number]
  stride?: number | [number, number]
  padding?: number | [number, number]
  bias?: boolean
}

// Sizes that are not multiples of any tile, size-1 dims, batch 1 and > 1, 1×1 / 3×3 / 7×7.
const CASES: ConvCase[] = [
  { x: [1, 3, 9, 11], w: [5, 3, 3, 3], padding: 1, bias: true },
  { x: [2, 4, 10, 7], w: [6, 4, 3, 3], stride: 2, padding: 1 },
  { x: [2, 3, 13, 13], w: [4, 3, 7, 7], padding: 3, bias: true },
  { x: [3, 5, 6, 5], w: [9, 5, 1, 1], bias: true },
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1] },
  { x: [2, 2, 8, 9], w: [3, 2, 2, 3], stride: [2, 1], padding: [0, 2] },
  { x: [1, 33, 5, 4], w: [35, 33, 3, 3], padding: 1, bias: true },
  // 1,600 pixels: the weight gradient sums the batch in chunks of one image (3 chunks).
  { x: [3, 2, 40, 40], w: [3, 2, 3, 3], padding: 1 },
  // 210 pixels, rows wider than the 64 lanes that split them: 5 images in one chunk.
  { x: [5, 3, 3, 70], w: [6, 3, 3, 1], padding: [1, 0], bias: true },
]

const label = (c: ConvCase) => `x${c.x.join('x')} w${c.w.join('x')} s${c.stride ?? 1} p${c.padding ?? 0}${c.bias ? ' +bias' : ''}`

function convInputs(d: Device, c: ConvCase, seed: number, requiresGrad = false) {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1)
  return {
    x: d.tensor(randomArray(size(c.x), seed), c.x, { requiresGrad }),
    w: d.tensor(randomArray(size(c.w), seed + 1), c.w, { requiresGrad }),
    b: c.bias ? d.tensor(randomArray(c.w[0], seed + 2), [c.w[0]], { requiresGrad }) : undefined,
  }
}

/**
 * Central finite differences of L = Σ y·r (r fixed random weights) with respect to each
 * element of each input, on the CPU backend, compared with autograd's gradients. L is summed
 * in float64 on the host so only f32 rounding of y limits the accuracy.
 */
async function gradCheck(shapes: number[][], make: (d: Device, xs: Float32Array[]) => Float32Array[], f: (ts: Tensor[]) => Tensor, seed: number): Promise<void> {
  const d = await cpuDevice()
  const data = make(d, shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b, 1), seed + i)))
  const ts = data.map((a, i) => d.tensor(a, shapes[i]!, { requiresGrad: true }))
  const y = f(ts)
  const r = randomArray(y.size, seed + 100)
  ops.sum(ops.mul(y, d.tensor(r, y.shape))).backward()
  const loss = async (arrays: Float32Array[]) => {
    const out = await noGrad(() => f(arrays.map((a, i) => d.tensor(a, shapes[i]!)))).read()
    let s = 0
    for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!
    return s
  }
  const h = 1e-2
  for (let t = 0; t < ts.length; t++) {
    const analytic = await ts[t]!.grad!.read()
    const numeric = new Float64Array(analytic.length)
    for (let i = 0; i < analytic.length; i++) {
      const plus = data.map((a) => a.slice())
      const minus = data.map((a) => a.slice())
      plus[t]![i]! += h
      minus[t]![i]! -= h
      numeric[i] = ((await loss(plus)) - (await loss(minus))) / (2 * h)
    }
    expectClose(analytic, numeric, 1e-2, 1e-3)
  }
}

/** Distinct values spaced far wider than the finite-difference step, in shuffled order. */
function distinctValues(n: number, seed: number): Float32Array {
  const keys = randomArray(n, seed)
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]!)
  const out = new Float32Array(n)
  order.forEach((pos, rank) => (out[pos] = (rank - n / 2) * 0.1))
  return out
}

describe('conv2d', () => {
  it.each(CASES)('webgpu matches the cpu reference: %#', async (c) => {
    await compareBackends((d) => {
      const { x, w, b } = convInputs(d, c, 7)
      return [ops.conv2d(x, w, { bias: b, stride: c.stride, padding: c.padding }), noGrad(() => ops.conv2d(x, w, { bias: b, stride: c.stride, padding: c.padding, activation: 'relu' }))]
    }, { rtol: 1e-4, atol: 1e-5 })
  })

  it('webgpu forward and backward match cpu where the packed (texture) matmul runs', async () => {
    // 16·256·72 multiply-adds per image: above the size where software adapters pack B.
    const c: ConvCase = { x: [2, 8, 16, 16], w: [16, 8, 3, 3], padding: 1, bias: true }
    await compareBackends((d) => {
      const { x, w, b } = convInputs(d, c, 5, true)
      const y = ops.conv2d(x, w, { bias: b, padding: c.padding })
      ops.sum(ops.mul(y, d.tensor(randomArray(y.size, 9), y.shape))).backward()
      return [y, x.grad!, w.grad!, b!.grad!]
    }, { rtol: 1e-4, atol: 1e-4 })
  })

  it('matches a direct sum on a hand-checked case', async () => {
    const d = await cpuDevice()
    // 1 channel 3×3 input, 2×2 all-ones kernel, padding 1, stride 2: corner sums.
    const x = d.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3])
    const w = d.tensor([1, 1, 1, 1], [1, 1, 2, 2])
    const y = ops.conv2d(x, w, { padding: 1, stride: 2, bias: d.tensor([0.5], [1]) })
    expect(y.shape).toEqual([1, 1, 2, 2])
    expect([...(await y.read())]).toEqual([1.5, 5.5, 11.5, 28.5])
  })

  it('sums the weight gradient over chunks of images: the batch gradient equals the per-image ones summed', async () => {
    const c = CASES[7]!
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const { x, w } = convInputs(d, c, 4)
      const r = d.tensor(randomArray(c.x[0] * c.w[0] * c.x[2] * c.x[3], 6), [c.x[0], c.w[0], c.x[2], c.x[3]])
      const weightGrad = async (image?: number) => {
        const wt = d.tensor(await w.read(), c.w, { requiresGrad: true })
        const pick = (t: Tensor) => (image === undefined ? t : ops.slice(t, [{ start: image, end: image + 1 }]))
        ops.sum(ops.mul(ops.conv2d(pick(x), wt, { padding: c.padding }), pick(r))).backward()
        return wt.grad!.read()
      }
      const summed = new Float32Array(w.size)
      for (let n = 0; n < c.x[0]; n++) (await weightGrad(n)).forEach((v, i) => (summed[i]! += v))
      expectClose(await weightGrad(), summed, 1e-4, 1e-4)
    }
  })

  it('rejects mismatched channels and kernels larger than the padded input', async () => {
    const d = await cpuDevice()
    expect(() => ops.conv2d(d.tensor(new Float32Array(2 * 4 * 4), [1, 2, 4, 4]), d.tensor(new Float32Array(27), [1, 3, 3, 3]))).toThrow(/channels/)
    expect(() => ops.conv2d(d.tensor(new Float32Array(4), [1, 1, 2, 2]), d.tensor(new Float32Array(9), [1, 1, 3, 3]))).toThrow(/does not fit/)
  })

  it.each([CASES[0]!, CASES[1]!, CASES[3]!, CASES[5]!])('finite-difference gradients (cpu): %#', async (c) => {
    const shapes = [c.x, c.w, ...(c.bias ? [[c.w[0]]] : [])]
    await gradCheck(shapes, (_, xs) => xs, ([x, w, b]) => ops.conv2d(x!, w!, { bias: b, stride: c.stride, padding: c.padding }), 11)
  })

  it.each([CASES[0]!, CASES[2]!, CASES[3]!, CASES[5]!, CASES[7]!, CASES[8]!])('webgpu backward matches cpu backward: %#', async (c) => {
    await compareBackends((d) => {
      const { x, w, b } = convInputs(d, c, 3, true)
      const y = ops.conv2d(x, w, { bias: b, stride: c.stride, padding: c.padding, activation: 'relu' })
      ops.sum(ops.mul(y, d.tensor(randomArray(y.size, 9), y.shape))).backward()
      return [x.grad!, w.grad!, ...(b ? [b.grad!] : [])]
    }, { rtol: 1e-4, atol: 1e-5 })
  })
})

describe.each(BACKENDS)('conv2d with a ReLU under autograd (%s)', (_name, makeDevice) => {
  it.each([CASES[0]!, CASES[3]!, CASES[6]!])('runs the ReLU in the conv kernel and gives the gradients of conv then relu: %#', async (c) => {
    const d = await makeDevice()
    const run = (fused: boolean) => {
      const { x, w, b } = convInputs(d, c, 21, true)
      let y: Tensor | undefined
      const forward = countDispatches(d, () => {
        y = fused ? ops.conv2d(x, w, { bias: b, padding: c.padding, activation: 'relu' }) : ops.relu(ops.conv2d(x, w, { bias: b, padding: c.padding }))
      })
      ops.sum(ops.mul(y!, d.tensor(randomArray(y!.size, 22), y!.shape))).backward()
      return { forward, tensors: [y!, x.grad!, w.grad!, ...(b ? [b.grad!] : [])] }
    }
    const fused = run(true)
    const separate = run(false)
    expect(fused.forward.get('elementwise') ?? 0).toBe((separate.forward.get('elementwise') ?? 0) - 1)
    for (let i = 0; i < fused.tensors.length; i++) expect(await fused.tensors[i]!.read()).toEqual(await separate.tensors[i]!.read())
  })
})

describe('maxPool2d', () => {
  const POOLS = [
    { x: [2, 3, 8, 6], kernel: 2 },
    { x: [1, 2, 7, 9], kernel: 3, stride: 2 },
    { x: [1, 1, 5, 5], kernel: 2, stride: 1 },
  ] as const

  it.each(POOLS)('webgpu forward and backward match cpu: %#', async (c) => {
    await compareBackends((d) => {
      const n = c.x.reduce<number>((a, b) => a * b, 1)
      const x = d.tensor(distinctValues(n, 5), [...c.x], { requiresGrad: true })
      const y = ops.maxPool2d(x, { kernel: c.kernel, stride: 'stride' in c ? c.stride : undefined })
      ops.sum(ops.mul(y, d.tensor(randomArray(y.size, 6), y.shape))).backward()
      return [y, x.grad!]
    })
  })

  it.each(POOLS)('finite-difference gradients (cpu): %#', async (c) => {
    await gradCheck([[...c.x]], (_, [x]) => [distinctValues(x!.length, 5)], ([x]) => ops.maxPool2d(x!, { kernel: c.kernel, stride: 'stride' in c ? c.stride : undefined }), 21)
  })

  it('sends the gradient of a tied window to its first maximum', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const x = d.tensor([1, 3, 3, 0, 2, 2, 3, 3], [1, 1, 2, 4], { requiresGrad: true })
      const y = ops.maxPool2d(x, { kernel: 2 })
      expect([...(await y.read())]).toEqual([3, 3])
      ops.sum(y).backward()
      expect([...(await x.grad!.read())]).toEqual([0, 1, 1, 0, 0, 0, 0, 0])
    }
  })
})

describe('upsampleNearest2d', () => {
  it('copies each pixel into a scale×scale block on both backends', async () => {
    for (const d of [await cpuDevice(), await gpuDevice()]) {
      const y = ops.upsampleNearest2d(d.tensor([1, 2, 3, 4, 5, 6], [1, 2, 1, 3]), 2)
      expect(y.shape).toEqual([1, 2, 2, 6])
      expect([...(await y.read())]).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6])
    }
  })

  it('finite-difference gradients (cpu) and webgpu backward', async () => {
    await gradCheck([[2, 2, 3, 2]], (_, xs) => xs, ([x]) => ops.upsampleNearest2d(x!, 3), 31)
    await compareBackends((d) => {
      const x = d.tensor(randomArray(2 * 3 * 4 * 5, 4), [2, 3, 4, 5], { requiresGrad: true })
      const y = ops.upsampleNearest2d(x, 2)
      ops.sum(ops.mul(y, d.tensor(randomArray(y.size, 6), y.shape))).backward()
      return [y, x.grad!]
    })
  })
})
