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
  convnet: TrainingFixture & { config: { b: number; c: number; hw: number; classes: number }; x: number[]; target: number[] }
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

/** The conv net of the fixture script: conv → ReLU → max-pool → conv → ReLU → upsample → 1×1 conv. */
class ConvNet extends nn.Module {
  conv1: nn.Conv2d
  conv2: nn.Conv2d
  head: nn.Conv2d

  constructor(device: Device, c: number, classes: number) {
    super()
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(device, c, 6, 3, { padding: 1 }))
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(device, 6, 8, 3, { padding: 1 }))
    this.head = this.registerModule('head', new nn.Conv2d(device, 8, classes, 1))
  }

  forward(x: Tensor): Tensor {
    const h = ops.maxPool2d(ops.relu(this.conv1.forward(x)), { kernel: 2, stride: 2 })
    return this.head.forward(ops.upsampleNearest2d(ops.relu(this.conv2.forward(h)), 2))
  }
}

interface TrainingFixture {
  init: Named
  steps: { loss: number; grads: Named }[]
  final: Named
}

/**
 * Loads the fixture's initial weights, runs its 3 AdamW steps and compares every loss,
 * every gradient and the final weights.
 */
async function expectTrainingParity(model: nn.Module, fx: TrainingFixture, lossOf: () => Tensor): Promise<void> {
  model.loadStateDict(hostDict(fx.init), { strict: false })
  expect(Object.keys(model.stateDict()).filter((n) => !(n in fx.init))).toEqual(model instanceof Block ? ['causal'] : [])
  const opt = new optim.AdamW(model.namedParameters(), { lr: fixture.config.lr, weightDecay: fixture.config.weightDecay })
  for (const step of fx.steps) {
    const loss = tidy(() => {
      const l = lossOf()
      l.backward()
      return l
    })
    expect(Math.abs((await loss.item()) - step.loss)).toBeLessThan(1e-4 * Math.abs(step.loss) + 1e-7)
    for (const [name, p] of model.namedParameters()) {
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
  for (const [name, p] of model.namedParameters()) {
    const got = await p.read()
    const want = fx.final[name]!.data
    const noise = (k: number) => fx.steps.every((s) => Math.abs(s.grads[name]!.data[k]!) < 1e-7)
    const kept = want.map((_, k) => k).filter((k) => !noise(k))
    expect(kept.length).toBeGreaterThan(want.length / 2)
    expectClose(kept.map((k) => got[k]!), kept.map((k) => want[k]!), 1e-4, 1e-6)
  }
  model.dispose()
  opt.dispose()
}

describe('training parity with PyTorch (3 AdamW steps: losses, every gradient, final weights)', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`pre-LN transformer block (${backend})`, async () => {
      const device = backend === 'cpu' ? await cpuDevice() : await gpuDevice()
      const block = new Block(device)
      const x = device.tensor(Float32Array.from(fixture.x), [B, T, D])
      const target = device.tensor(Float32Array.from(fixture.target), [B, T, D])
      await expectTrainingParity(block, fixture, () => ops.mean(ops.square(ops.sub(block.forward(x), target))))
    })

    it(`conv net with cross-entropy (${backend})`, async () => {
      const device = backend === 'cpu' ? await cpuDevice() : await gpuDevice()
      const { config, ...fx } = fixture.convnet
      const net = new ConvNet(device, config.c, config.classes)
      const x = device.tensor(Float32Array.from(fx.x), [config.b, config.c, config.hw, config.hw])
      const target = device.tensor(Int32Array.from(fx.target), [config.b * config.hw * config.hw])
      await expectTrainingParity(net, fx, () =>
        ops.crossEntropy(ops.reshape(ops.permute(net.forward(x), [0, 2, 3, 1]), [-1, config.classes]), target),
      )
    })
  }
})
