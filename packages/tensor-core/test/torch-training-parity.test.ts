import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { nn, ops, optim, tidy, type Device, type Tensor } from '../src/index.js'
import { cpuDevice, expectClose, gpuDevice } from './helpers.js'

interface Named {
  [name: string]: { shape: number[]; data: number[] }
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/training.json', import.meta.url), 'utf8')) as {
  config: { d: number; heads: number; t: number; b: number; lr: number; weightDecay: number }
  init: Named
  x: number[]
  target: number[]
  steps: { loss: number; grads: Named }[]
  final: Named
}
const { d: D, heads: HEADS, t: T, b: B } = fixture.config

/** The same pre-LN block as fixtures/make_training_fixtures.py, from nn modules and ops. */
class Block extends nn.Module {
  ln1: nn.LayerNorm
  qkv: nn.Linear
  proj: nn.Linear
  ln2: nn.LayerNorm
  fc1: nn.Linear
  fc2: nn.Linear
  private readonly causal: Tensor

  constructor(device: Device) {
    super()
    this.ln1 = this.registerModule('ln1', new nn.LayerNorm(device, D))
    this.qkv = this.registerModule('qkv', new nn.Linear(device, D, 3 * D))
    this.proj = this.registerModule('proj', new nn.Linear(device, D, D))
    this.ln2 = this.registerModule('ln2', new nn.LayerNorm(device, D))
    this.fc1 = this.registerModule('fc1', new nn.Linear(device, D, 4 * D))
    this.fc2 = this.registerModule('fc2', new nn.Linear(device, 4 * D, D))
    const mask = new Int32Array(T * T)
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) mask[i * T + j] = 1
    this.causal = this.registerBuffer('causal', device.tensor(mask, [T, T]))
  }

  forward(x: Tensor): Tensor {
    const hd = D / HEADS
    const qkv = this.qkv.forward(this.ln1.forward(x))
    const heads = (i: number) => ops.permute(ops.reshape(ops.slice(qkv, [undefined, undefined, { start: i * D, end: (i + 1) * D }]), [B, T, HEADS, hd]), [0, 2, 1, 3])
    const [q, k, v] = [heads(0), heads(1), heads(2)]
    const att = ops.softmax(ops.mul(ops.matmul(q, k, { transB: true }), 1 / Math.sqrt(hd)), { mask: this.causal })
    const y = ops.reshape(ops.permute(ops.matmul(att, v), [0, 2, 1, 3]), [B, T, D])
    const h = ops.add(x, this.proj.forward(y))
    return ops.add(h, this.fc2.forward(ops.gelu(this.fc1.forward(this.ln2.forward(h)))))
  }
}

function hostDict(named: Named) {
  return Object.fromEntries(Object.entries(named).map(([n, t]) => [n, { dtype: 'f32' as const, shape: t.shape, data: Float32Array.from(t.data) }]))
}

describe('training parity with PyTorch (pre-LN transformer block, 3 AdamW steps)', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`losses, every gradient and final weights match (${backend})`, async () => {
      const device = backend === 'cpu' ? await cpuDevice() : await gpuDevice()
      const block = new Block(device)
      block.loadStateDict({ ...hostDict(fixture.init), causal: { dtype: 'i32', shape: [T, T], data: (await block.stateDict()['causal']!.read()) as Int32Array } })
      const opt = new optim.AdamW(block.namedParameters(), { lr: fixture.config.lr, weightDecay: fixture.config.weightDecay })
      const x = device.tensor(Float32Array.from(fixture.x), [B, T, D])
      const target = device.tensor(Float32Array.from(fixture.target), [B, T, D])
      for (const step of fixture.steps) {
        const loss = tidy(() => {
          const l = ops.mean(ops.square(ops.sub(block.forward(x), target)))
          l.backward()
          return l
        })
        expect(Math.abs((await loss.item()) - step.loss)).toBeLessThan(1e-4 * Math.abs(step.loss) + 1e-7)
        for (const [name, p] of block.namedParameters()) {
          const expected = step.grads[name]!
          const scale = Math.max(...expected.data.map(Math.abs))
          // 1e-4 relative to the tensor's largest gradient: elementwise relative error is
          // meaningless for entries that cancel to ~0.
          expectClose(await p.grad!.read(), expected.data, 0, 1e-4 * scale + 1e-8)
        }
        opt.step()
        opt.zeroGrad()
        loss.dispose()
      }
      // Adam divides by √v, so an entry whose gradient is rounding noise (the key bias of
      // attention gets exactly zero gradient in exact arithmetic: softmax ignores a constant
      // shift per row) moves by ±lr in either framework. Those entries are excluded; all
      // others must match.
      for (const [name, p] of block.namedParameters()) {
        const got = await p.read()
        const want = fixture.final[name]!.data
        const noise = (k: number) => fixture.steps.every((s) => Math.abs(s.grads[name]!.data[k]!) < 1e-7)
        const kept = want.map((_, k) => k).filter((k) => !noise(k))
        expect(kept.length).toBeGreaterThan(want.length / 2)
        expectClose(kept.map((k) => got[k]!), kept.map((k) => want[k]!), 1e-4, 1e-6)
      }
      block.dispose()
      opt.dispose()
    })
  }
})
