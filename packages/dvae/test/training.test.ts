import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Device } from '@tessera/tensor-core'
import { makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, type StepMetrics, type TrainOptions } from '../src/index.js'

// Small enough for the CPU reference backend: 16×16 shapes → 8×8 tokens of 32 codes.
const CONFIG = { groupCount: 2, nHid: 8, nBlkPerGroup: 1, vocabSize: 32, nInit: 8, imageSize: 16 }
const data = makeShapesDataset({ count: 512, imageSize: 16, seed: 2 })

async function trainer(opts: TrainOptions): Promise<DvaeTrainer> {
  const device = await Device.create({ backend: 'cpu', seed: 1 })
  return new DvaeTrainer(new DiscreteVAE(device, CONFIG, { seed: 1 }), data, opts)
}

function release(t: DvaeTrainer): void {
  t.dispose()
  t.model.dispose()
  t.model.device.destroy()
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

describe('training', () => {
  it('on synthetic shapes the loss falls and codebook usage rises', async () => {
    const t = await trainer({ steps: 60, batchSize: 8, lr: 2e-3, klWeight: 5, klWarmupSteps: 0, warmupSteps: 0 })
    const history: StepMetrics[] = []
    await t.run({ onStep: (m) => history.push(m) })
    expect(history.length).toBe(60)
    const first = history.slice(0, 10)
    const last = history.slice(-10)
    expect(mean(last.map((m) => m.loss))).toBeLessThan(mean(first.map((m) => m.loss)) - 0.3)
    expect(mean(last.map((m) => m.perplexity))).toBeGreaterThan(1.5 * mean(first.map((m) => m.perplexity)))
    // Schedules: temperature annealed towards 1/16, KL weight constant without warmup.
    expect(history[0]!.tau).toBe(1)
    expect(history[59]!.tau).toBeLessThan(0.1)
    expect(history.every((m) => m.klWeight === 5)).toBe(true)
    release(t)
  })

  it('runs its steps without an onStep callback too', async () => {
    const t = await trainer({ steps: 3, batchSize: 2 })
    await t.run({ until: 2 })
    expect(t.step).toBe(2)
    release(t)
  })

  it('resumes exactly: N steps equal N/2, checkpoint, load into a fresh run, N/2', async () => {
    const opts: TrainOptions = { steps: 8, batchSize: 4, lr: 2e-3, klWeight: 2, klWarmupSteps: 4 }
    const straight = await trainer(opts)
    const expected: number[] = []
    await straight.run({ onStep: (m) => expected.push(m.loss) })
    release(straight)

    const dir = await mkdtemp(join(tmpdir(), 'dvae-resume-'))
    try {
      const firstHalf = await trainer(opts)
      const losses: number[] = []
      await firstHalf.run({ until: 4, onStep: (m) => losses.push(m.loss), checkpointDir: dir })
      release(firstHalf)
      const secondHalf = await trainer(opts)
      expect(await secondHalf.resume(dir)).toBe(true)
      expect(secondHalf.step).toBe(4)
      await secondHalf.run({ onStep: (m) => losses.push(m.loss) })
      release(secondHalf)
      expect(losses).toEqual(expected)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
