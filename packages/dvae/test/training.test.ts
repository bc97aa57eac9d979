import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Device, loadTrainingCheckpoint, ops, saveTrainingCheckpoint, tidy, type Tensor } from '@tessera/tensor-core'
import { EpochSampler, gatherBatch, makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, mapPixels, sigmoidMse, straightThroughCodes, type StepMetrics, type TrainOptions } from '../src/index.js'

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
      expect(await secondHalf.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(secondHalf.step).toBe(4)
      expect(secondHalf.recipeChanges).toEqual([])
      await secondHalf.run({ onStep: (m) => losses.push(m.loss) })
      release(secondHalf)
      expect(losses).toEqual(expected)
      // A longer run from the same checkpoint says how its schedules change.
      const longer = await trainer({ ...opts, steps: 12 })
      expect(await longer.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(longer.recipeChanges).toEqual(['warmupSteps 0 → 1', 'tauSteps 8 → 12', 'steps 8 → 12'])
      release(longer)
      // A new peak LR takes over from the one the optimizer saved (as the schedules do).
      const slower = await trainer({ ...opts, lr: 5e-4 })
      expect(await slower.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(slower.recipeChanges).toEqual(['lr 0.002 → 0.0005'])
      expect(slower.optimizer.lr).toBe(5e-4)
      expect(slower.optimizer.currentLr()).toBeCloseTo(5e-4 * slower.optimizer.schedule!(4), 12)
      release(slower)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('resumes checkpoints written before the loop moved to tensor-core: the same caller data, with or without a recipe', async () => {
    const opts: TrainOptions = { steps: 8, batchSize: 4, lr: 2e-3 }
    const dir = await mkdtemp(join(tmpdir(), 'dvae-format-'))
    const noRecipeDir = await mkdtemp(join(tmpdir(), 'dvae-format-'))
    try {
      // The caller data DvaeTrainer wrote itself: data order, code usage, config, recipe (none before 2026-11-27).
      const writer = await trainer(opts)
      const sampler = new EpochSampler(data.length, 4, 0)
      sampler.next()
      sampler.next()
      const extra = { sampler: sampler.state(), codeUsage: Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? -1 : 1)), config: writer.model.config, recipe: writer.options }
      const run = { model: writer.model, optimizer: writer.optimizer, device: writer.model.device, step: 2 }
      await saveTrainingCheckpoint(dir, { ...run, extra })
      const { recipe: _, ...withoutRecipe } = extra
      await saveTrainingCheckpoint(noRecipeDir, { ...run, extra: withoutRecipe })
      release(writer)

      const resumed = await trainer(opts)
      expect(await resumed.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(resumed.step).toBe(2)
      expect(resumed.recipeChanges).toEqual([])
      // Saved again, the checkpoint holds what was restored, in the same format.
      await resumed.saveCheckpoint(dir)
      const again = await loadTrainingCheckpoint(dir, { model: resumed.model, optimizer: resumed.optimizer, device: resumed.model.device })
      expect(again!.extra).toEqual(extra)
      release(resumed)

      const slower = await trainer({ ...opts, lr: 5e-4 })
      expect(await slower.resume(noRecipeDir)).toMatchObject({ fallback: null, verified: true })
      expect(slower.recipeChanges).toEqual(['lr 0.002 → 0.0005'])
      expect(slower.optimizer.lr).toBe(5e-4)
      release(slower)
    } finally {
      await rm(dir, { recursive: true, force: true })
      await rm(noRecipeDir, { recursive: true, force: true })
    }
  })

  it.each(['cpu', 'webgpu'] as const)('on %s, run with a step in flight gives the values of steps run one at a time', async (backend) => {
    const opts: TrainOptions = { steps: 7, batchSize: 4, lr: 2e-3, klWeight: 2 }
    const make = async () => new DvaeTrainer(new DiscreteVAE(await Device.create({ backend, seed: 1 }), CONFIG, { seed: 1 }), data, opts)
    const oneAtATime = await make()
    const expected: number[] = []
    for (let i = 0; i < 7; i++) expected.push((await oneAtATime.trainStep()).loss)
    const expectedWeights = await oneAtATime.model.parameters()[0]!.read()
    release(oneAtATime)

    const dir = await mkdtemp(join(tmpdir(), 'dvae-inflight-'))
    try {
      const pipelined = await make()
      const losses: number[] = []
      const steps: number[] = []
      const recorded: number[] = []
      const onStep = (m: StepMetrics) => {
        losses.push(m.loss)
        steps.push(m.step)
        recorded.push(pipelined.step)
      }
      // A checkpoint at step 3 and an evaluation at step 5 each need the state after their step.
      await pipelined.run({ onStep, checkpointDir: dir, checkpointEvery: 3, evalSet: data, evalEvery: 5, evalCount: 4 })
      expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6])
      // Steps recorded when each step's metrics arrived: one more, except at the checkpoints (3, 6), the evaluation (5) and the end.
      expect(recorded).toEqual([2, 3, 3, 5, 5, 6, 7])
      expect(losses).toEqual(expected)
      expect(Array.from(await pipelined.model.parameters()[0]!.read())).toEqual(Array.from(expectedWeights))
      release(pipelined)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('an aborted run stops at the next step boundary with a checkpoint there, skipping the final evaluation', async () => {
    const opts: TrainOptions = { steps: 8, batchSize: 4 }
    const dir = await mkdtemp(join(tmpdir(), 'dvae-stop-'))
    try {
      const stopped = await trainer(opts)
      const controller = new AbortController()
      const evals: number[] = []
      const result = await stopped.run({
        onStep: (m) => m.step === 2 && controller.abort(), // the third step; the fourth is in flight by then
        onEval: (m) => evals.push(m.step),
        evalSet: data,
        evalEvery: 100,
        checkpointDir: dir,
        signal: controller.signal,
      })
      expect(stopped.step).toBe(4)
      expect(result).toBeNull()
      expect(evals).toEqual([])
      release(stopped)
      const resumed = await trainer(opts)
      expect(await resumed.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(resumed.step).toBe(4)
      release(resumed)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('straight-through codes are the hard one-hot forward and carry softmax(logits/τ) gradients back', async () => {
    const device = await Device.create({ backend: 'cpu', seed: 3 })
    const logitValues = Array.from({ length: 2 * 5 }, (_, i) => Math.sin(i * 1.7) * 3)
    const weights = device.tensor(Array.from({ length: 2 * 5 }, (_, i) => Math.cos(i)), [2, 5])
    const tau = 0.5
    const gradThrough = async (codesOf: (logits: Tensor) => Tensor) => {
      const logits = device.tensor(logitValues, [2, 5], { requiresGrad: true })
      const codes = tidy(() => {
        const c = codesOf(logits)
        ops.sum(ops.mul(c, weights)).backward()
        return c
      })
      const result = { codes: Array.from(await codes.read()), grad: Array.from(await logits.grad!.read()) }
      codes.dispose()
      logits.dispose()
      return result
    }
    const straight = await gradThrough((l) => straightThroughCodes(l, tau))
    const soft = await gradThrough((l) => ops.softmax(ops.mul(l, 1 / tau)))
    // Row 0's largest logit is index 1 (sin 1.7), row 1's is index 3 (sin 13.6).
    expect(straight.codes).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1, 0])
    for (const [i, g] of straight.grad.entries()) expect(g).toBeCloseTo(soft.grad[i]!, 6)
    expect(soft.grad.some((g) => Math.abs(g) > 1e-2)).toBe(true)
    weights.dispose()
    device.destroy()
  })

  it('a straight-through step trains on exactly the reconstruction inference gives', async () => {
    const t = await trainer({ steps: 4, batchSize: 6, codes: 'straight-through', tauStart: 1 / 16, tauEnd: 1 / 16, klWeight: 0, loss: 'mse', dataSeed: 5 })
    // The trainer's first batch, encoded and decoded as a user would, before the step changes the weights.
    const batch = gatherBatch(data, new EpochSampler(data.length, 6, 5).next())
    const inferenceMse = tidy(() => {
      const images = t.model.device.tensor(batch.images, batch.shape)
      // The training loss is MSE of sigmoid(μ) against the mapped pixels.
      return sigmoidMse(t.model.decodeStats(t.model.encode(images)), mapPixels(images))
    })
    const expected = await inferenceMse.item()
    inferenceMse.dispose()
    const first = await t.trainStep()
    expect(first.recon).toBeCloseTo(expected, 4)
    release(t)
  })
})

