import { describe, expect, it } from 'vitest'
import { optim, type Device, type Tensor } from '../src/index.js'
import { sumOfSquares } from '../src/ops/foreach.js'
import { BACKENDS, countDispatches, expectClose, randomArray } from './helpers.js'

// Sizes that make several groups per dispatch kind (16 storage buffers: 15 gradients per
// clipping dispatch, 4 parameters per AdamW dispatch), empty and one-element tensors, and
// tensors past 256 workgroups × 256 lanes, which each workgroup strides over.
const SIZES = [0, 1, 3, 255, 256, 257, 1000, 70_000, 5, 9, 64, 4096, 17, 31, 2, 8, 100, 300, 12, 65_537, 7]

function gradTensors(device: Device, seed: number): { params: Tensor[]; grads: Float32Array[] } {
  const grads = SIZES.map((n, i) => randomArray(n, seed + i, -0.2, 0.2))
  const params = SIZES.map((n, i) => {
    const p = device.tensor(randomArray(n, 500 + i), [n], { requiresGrad: true })
    p.grad = device.tensor(grads[i]!, [n])
    return p
  })
  return { params, grads }
}


describe.each(BACKENDS)('foreach kernels (%s)', (_name, make) => {
  it('sumOfSquares sums every element of every tensor', async () => {
    const device = await make()
    const { params, grads } = gradTensors(device, 1)
    const total = sumOfSquares(params.map((p) => p.grad!))
    let expected = 0
    for (const g of grads) for (const x of g) expected += x * x
    expect(await total.item()).toBeCloseTo(expected, 3)
    total.dispose()
    for (const p of params) p.dispose()
  })

  it('clipGradNorm scales all gradients by maxNorm / norm in a few dispatches', async () => {
    const device = await make()
    const { params, grads } = gradTensors(device, 2)
    let sq = 0
    for (const g of grads) for (const x of g) sq += x * x
    const norm = Math.sqrt(sq)
    let result: Tensor | null = null
    const counts = countDispatches(device, () => (result = optim.clipGradNorm(params, 1)))
    expect(await result!.item()).toBeCloseTo(norm, 3)
    expect(norm).toBeGreaterThan(1)
    for (let i = 0; i < params.length; i++) expectClose(await params[i]!.grad!.read(), grads[i]!.map((x) => x / norm), 1e-4, 1e-7)
    // 21 gradients: two partial-sum and two scaling dispatches, then the sum and the square root.
    expect(counts.get('foreach.sumSquares')).toBe(2)
    expect(counts.get('foreach.clipScale')).toBe(2)
    expect([...counts.values()].reduce((a, b) => a + b)).toBeLessThanOrEqual(6)
    result!.dispose()
    for (const p of params) p.dispose()
  })

  it('AdamW updates every parameter as torch.optim.AdamW does, four per dispatch', async () => {
    const device = await make()
    const { params, grads } = gradTensors(device, 3)
    const before = await Promise.all(params.map((p) => p.read()))
    const opt = new optim.AdamW(params, { lr: 1e-2, weightDecay: 0.1 })
    opt.step() // first step: moment slots are created (zeros) and updated
    const counts = countDispatches(device, () => opt.step())
    expect(counts.get('foreach.adamw')).toBe(Math.ceil(SIZES.length / 4))
    // Two steps of AdamW with the same gradient, in double precision.
    const [b1, b2, eps, lr, wd] = [0.9, 0.999, 1e-8, 1e-2, 0.1]
    for (let i = 0; i < params.length; i++) {
      const expected = before[i]!.map((p0, j) => {
        let p = p0
        let m = 0
        let v = 0
        const g = grads[i]![j]!
        for (let t = 1; t <= 2; t++) {
          m = b1 * m + (1 - b1) * g
          v = b2 * v + (1 - b2) * g * g
          p = p * (1 - lr * wd) - (lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps)
        }
        return p
      })
      expectClose(await params[i]!.read(), expected, 1e-5, 1e-6)
    }
    opt.dispose()
    for (const p of params) p.dispose()
  })

  it('SGD without momentum keeps no buffer; with Nesterov momentum it matches torch.optim.SGD', async () => {
    const device = await make()
    for (const momentum of [0, 0.9]) {
      const { params, grads } = gradTensors(device, 4)
      const before = await Promise.all(params.map((p) => p.read()))
      const opt = new optim.SGD(params, { lr: 0.1, momentum, nesterov: momentum > 0, weightDecay: 0.01 })
      opt.step()
      opt.step()
      for (let i = 0; i < params.length; i++) {
        const expected = before[i]!.map((p0, j) => {
          let p = p0
          let buf = 0
          for (let t = 1; t <= 2; t++) {
            let d = grads[i]![j]! + 0.01 * p
            if (momentum) {
              buf = t === 1 ? d : momentum * buf + d
              d = d + momentum * buf
            }
            p -= 0.1 * d
          }
          return p
        })
        expectClose(await params[i]!.read(), expected, 1e-5, 1e-6)
      }
      expect(Object.keys((await opt.stateDict()).tensors).length).toBe(momentum ? params.length : 0)
      opt.dispose()
      for (const p of params) p.dispose()
    }
  })
})
