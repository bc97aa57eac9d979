import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Device, nn, ops, optim, tidy, saveTrainingCheckpoint, loadTrainingCheckpoint, type Tensor } from '../src/index.js'
import { cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

/** A two-layer MLP: enough structure for optimizers, state dicts and resume. */
class Mlp extends nn.Module {
  fc1: nn.Linear
  fc2: nn.Linear
  constructor(device: Device, seed: number) {
    super()
    const rng = new nn.HostRandom(seed)
    this.fc1 = this.registerModule('fc1', new nn.Linear(device, 4, 16, { rng }))
    this.fc2 = this.registerModule('fc2', new nn.Linear(device, 16, 1, { rng }))
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x, 'gelu'))
  }
}

/** Batch `i` of a fixed regression task y = sin(Σ x). */
function batch(device: Device, i: number): { x: Tensor; y: Tensor } {
  const x = randomArray(8 * 4, 1000 + i)
  const y = new Float32Array(8)
  for (let r = 0; r < 8; r++) y[r] = Math.sin(x[r * 4]! + x[r * 4 + 1]! - x[r * 4 + 2]! * x[r * 4 + 3]!)
  return { x: device.tensor(x, [8, 4]), y: device.tensor(y, [8, 1]) }
}

async function trainSteps(device: Device, model: Mlp, opt: optim.Optimizer, from: number, to: number): Promise<number[]> {
  const losses: number[] = []
  for (let i = from; i < to; i++) {
    const loss = tidy(() => {
      const { x, y } = batch(device, i)
      const l = ops.mean(ops.square(ops.sub(model.forward(x), y)))
      l.backward()
      optim.clipGradNorm(model.parameters(), 1.0)
      opt.step()
      opt.zeroGrad()
      return l
    })
    losses.push(await loss.item())
    loss.dispose()
  }
  return losses
}

describe('optimizers', () => {
  for (const kind of ['adamw', 'sgd'] as const) {
    it(`${kind}: loss falls, and WebGPU follows the CPU reference`, async () => {
      const run = async (device: Device) => {
        const model = new Mlp(device, 7)
        const opt =
          kind === 'adamw'
            ? new optim.AdamW(model.namedParameters(), { lr: 1e-2, schedule: optim.warmupThen(5, optim.cosineDecay(100)) })
            : new optim.SGD(model.namedParameters(), { lr: 5e-2, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })
        const losses = await trainSteps(device, model, opt, 0, 60)
        model.dispose()
        opt.dispose()
        return losses
      }
      const cpu = await run(await cpuDevice())
      const gpu = await run(await gpuDevice())
      const head = cpu.slice(0, 5).reduce((a, b) => a + b) / 5
      const tail = cpu.slice(-5).reduce((a, b) => a + b) / 5
      expect(tail).toBeLessThan(head * 0.5)
      expectClose(gpu, cpu, 1e-3, 1e-5)
    })
  }

  it('schedules have the documented shape', () => {
    expect(optim.linearWarmup(4)(0)).toBe(0.25)
    expect(optim.linearWarmup(4)(10)).toBe(1)
    expect(optim.cosineDecay(10, 0.1)(0)).toBeCloseTo(1)
    expect(optim.cosineDecay(10, 0.1)(5)).toBeCloseTo(0.55)
    expect(optim.cosineDecay(10, 0.1)(20)).toBeCloseTo(0.1)
    expect(optim.exponentialDecay(0.5)(3)).toBe(0.125)
    // warmupCosine: warmup, then the cosine over what is left of the run.
    const lr = optim.warmupCosine(14, 4, 0.1)
    expect(lr(0)).toBe(0.25)
    expect(lr(4)).toBeCloseTo(1)
    expect(lr(9)).toBeCloseTo(0.55)
    expect(lr(14)).toBeCloseTo(0.1)
    expect(lr(100)).toBeCloseTo(0.1)
  })

  it('anneals go from start to end over their steps, then stay', () => {
    const tau = optim.exponentialAnneal(1, 1 / 16, 8)
    expect(tau(0)).toBe(1)
    expect(tau(4)).toBeCloseTo(0.25)
    expect(tau(8)).toBeCloseTo(1 / 16)
    expect(tau(20)).toBeCloseTo(1 / 16)
    const cos = optim.cosineAnneal(1, 0.2, 10)
    expect(cos(0)).toBeCloseTo(1)
    expect(cos(5)).toBeCloseTo(0.6)
    expect(cos(30)).toBeCloseTo(0.2)
    expect(optim.linearRamp(6, 4)(1)).toBe(1.5)
    expect(optim.linearRamp(6, 4)(9)).toBe(6)
    expect(optim.linearRamp(6, 0)(0)).toBe(6)
  })

  it('clipGradNorm scales to the max norm and returns the old norm', async () => {
    const d = await gpuDevice()
    const a = d.tensor(new Float32Array([3, 0]), [2], { requiresGrad: true })
    const b = d.tensor(new Float32Array([4]), [1], { requiresGrad: true })
    tidy(() => ops.add(ops.sum(ops.mul(a, a.detach())), ops.sum(ops.mul(b, b.detach()))).backward())
    const norm = optim.clipGradNorm([a, b], 1)!
    expect(await norm.item()).toBeCloseTo(5)
    expectClose(await a.grad!.read(), [0.6, 0], 1e-5, 1e-6)
    expectClose(await b.grad!.read(), [0.8], 1e-5, 1e-6)
  })
})

describe('state dicts', () => {
  it('lists missing, unexpected and mismatched names and loads nothing on error', async () => {
    const d = await cpuDevice()
    const model = new Mlp(d, 1)
    const sd = await model.hostStateDict()
    expect(Object.keys(sd).sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight'])
    const before = await model.fc1.weight.read()
    const bad = { ...sd, 'fc1.weight': { dtype: 'f32' as const, shape: [3, 3], data: new Float32Array(9) }, extra: sd['fc2.bias']! }
    delete (bad as Record<string, unknown>)['fc2.weight']
    let err: nn.StateDictError | undefined
    try {
      model.loadStateDict(bad)
    } catch (e) {
      err = e as nn.StateDictError
    }
    expect(err).toBeInstanceOf(nn.StateDictError)
    expect(err!.missing).toEqual(['fc2.weight'])
    expect(err!.unexpected).toEqual(['extra'])
    expect(err!.mismatched[0]!.name).toBe('fc1.weight')
    expect(err!.message).toMatch(/fc2\.weight.*extra.*fc1\.weight expected \[16, 4\] got \[3, 3\]/)
    expect([...(await model.fc1.weight.read())]).toEqual([...before])
    // A correct dict round-trips.
    const other = new Mlp(d, 2)
    other.loadStateDict(sd)
    expect([...(await other.fc2.weight.read())]).toEqual([...sd['fc2.weight']!.data])
  })
})

describe('training checkpoints', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`resume continues exactly (${backend})`, async () => {
      const device = backend === 'cpu' ? await cpuDevice() : await gpuDevice()
      const dir = mkdtempSync(join(tmpdir(), 'tessera-ckpt-'))
      try {
        const fresh = () => {
          const model = new Mlp(device, 3)
          return { model, opt: new optim.AdamW(model.namedParameters(), { lr: 5e-3, schedule: optim.linearWarmup(4) }) }
        }
        const a = fresh()
        const full = await trainSteps(device, a.model, a.opt, 0, 12)

        const b = fresh()
        const firstHalf = await trainSteps(device, b.model, b.opt, 0, 6)
        device.random.take(123)
        await saveTrainingCheckpoint(dir, { model: b.model, optimizer: b.opt, device, step: 6, extra: { dataPosition: 6 } })
        const randomAtSave = device.random.state()
        device.random.take(999)

        const c = fresh()
        const state = await loadTrainingCheckpoint<{ dataPosition: number }>(dir, { model: c.model, optimizer: c.opt, device })
        expect(state!.step).toBe(6)
        expect(device.random.state()).toEqual(randomAtSave)
        const secondHalf = await trainSteps(device, c.model, c.opt, state!.extra.dataPosition, 12)
        const resumed = [...firstHalf, ...secondHalf]
        if (backend === 'cpu') expect(resumed).toEqual(full)
        else expectClose(resumed, full, 1e-5, 1e-6)
        for (const r of [a, b, c]) {
          r.model.dispose()
          r.opt.dispose()
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
})
