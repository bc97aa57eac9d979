import { describe, expect, it } from 'vitest'
import { Device, ops, noGrad, tidy, AutogradError, type Tensor } from '../src/index.js'
import { BACKENDS, countDispatches, cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

describe('autograd', () => {
  it('follows the public contract (DESIGN.md)', async () => {
    const device = await Device.create({ backend: 'webgpu' })
    const [m, k, n] = [5, 7, 3]
    const aData = randomArray(m * k, 11)
    const a = device.tensor(aData, [m, k])
    const w = device.tensor(new Float32Array(k * n), [k, n], { requiresGrad: true })
    const loss = ops.mean(ops.matmul(a, w))
    loss.backward()
    const grad: Float32Array = (await w.grad!.read()) as Float32Array
    // d mean(a·w) / d w[i, j] = Σ_r a[r, i] / (m·n)
    const expected = new Float32Array(k * n)
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) for (let r = 0; r < m; r++) expected[i * n + j] += aData[r * k + i]! / (m * n)
    expectClose(grad, expected, 1e-5, 1e-7)
    device.destroy()
  })

  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`accumulates gradients over uses and calls (${backend})`, async () => {
      const d = backend === 'cpu' ? await cpuDevice() : await gpuDevice()
      const x = d.tensor(new Float32Array([1, 2, 3]), [3], { requiresGrad: true })
      // y = Σ x·x + Σ x  → dy/dx = 2x + 1; the same tensor feeds both inputs of mul.
      tidy(() => ops.add(ops.sum(ops.mul(x, x)), ops.sum(x)).backward())
      expect([...(await x.grad!.read())]).toEqual([3, 5, 7])
      tidy(() => ops.sum(x).backward())
      expect([...(await x.grad!.read())]).toEqual([4, 6, 8])
      x.dispose()
    })
  }

  it('records nothing under noGrad and refuses backward without a graph', async () => {
    const d = await cpuDevice()
    const x = d.tensor(new Float32Array([1, 2]), [2], { requiresGrad: true })
    const y = noGrad(() => ops.sum(ops.exp(x)))
    expect(y.requiresGrad).toBe(false)
    expect(() => y.backward()).toThrow(AutogradError)
    const z = ops.exp(x)
    expect(() => z.backward()).toThrow(/one-element/)
  })

  it('detach cuts the graph', async () => {
    const d = await cpuDevice()
    const x = d.tensor(new Float32Array([2]), [1], { requiresGrad: true })
    const y = ops.mul(x, x.detach())
    y.backward()
    expect([...(await x.grad!.read())]).toEqual([2])
  })

  it('frees intermediate gradients: only leaf grads survive backward', async () => {
    const d = await gpuDevice()
    const w = d.tensor(randomArray(64 * 64, 3), [64, 64], { requiresGrad: true })
    const x = d.tensor(randomArray(8 * 64, 4), [8, 64])
    await d.sync()
    tidy(() => {
      let h = x
      for (let i = 0; i < 4; i++) h = ops.relu(ops.matmul(h, w))
      ops.mean(h).backward()
    })
    const storages = d.memory().storages
    // w, x, w.grad remain.
    expect(w.grad).not.toBeNull()
    w.dispose()
    x.dispose()
    expect(d.memory().storages).toBe(storages - 3)
  })
})

describe('autograd with disposed intermediates', () => {
  it('throws instead of silently dropping gradients behind a disposed tensor', async () => {
    const d = await cpuDevice()
    const w = d.tensor(new Float32Array([1, 2]), [2], { requiresGrad: true })
    // tidy() frees the intermediates (exp, then mul) that are not returned: the path to w is cut.
    const y = tidy(() => ops.sum(tidy(() => ops.mul(ops.exp(w), 2))))
    expect(() => y.backward()).toThrow(/an input of sum\) after it was disposed/)
    const h = ops.exp(w)
    const z = ops.sum(ops.mul(h, 3))
    h.dispose()
    expect(() => z.backward()).toThrow(/after it was disposed/)
  })
})

describe('matmul with a ReLU under autograd', () => {
  it.each(BACKENDS)('runs the ReLU in the matmul kernel and gives the gradients of matmul then relu (%s)', async (_name, makeDevice) => {
    const d = await makeDevice()
    const run = (fused: boolean) => {
      const x = d.tensor(randomArray(7 * 13, 31), [7, 13], { requiresGrad: true })
      const w = d.tensor(randomArray(9 * 13, 32), [9, 13], { requiresGrad: true })
      const b = d.tensor(randomArray(9, 33), [9], { requiresGrad: true })
      let y: Tensor | undefined
      const forward = countDispatches(d, () => {
        y = fused ? ops.linear(x, w, b, 'relu') : ops.relu(ops.linear(x, w, b))
      })
      ops.sum(ops.mul(y!, d.tensor(randomArray(7 * 9, 34), [7, 9]))).backward()
      return { forward, tensors: [y!, x.grad!, w.grad!, b.grad!] }
    }
    const fused = run(true)
    const separate = run(false)
    expect(fused.forward.get('elementwise') ?? 0).toBe((separate.forward.get('elementwise') ?? 0) - 1)
    for (let i = 0; i < fused.tensors.length; i++) expect(await fused.tensors[i]!.read()).toEqual(await separate.tensors[i]!.read())
  })
})
