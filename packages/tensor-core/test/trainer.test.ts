import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Device, loadTrainingCheckpoint, nn, ops, optim, tidy, Trainer, TrainingError, type RecordedStep, type TrainingTask, io } from '../src/index.js'
import { randomArray } from './helpers.js'

interface Metrics {
  step: number
  loss: number
  lr: number
}

interface Recipe {
  steps: number
  lr: number
  /** A batch whose targets are NaN, to make the loss non-finite at that step. */
  poisonAt?: number
}

/** Batch `i` of y = x·[1, −2, 0.5, 3] + 0.5: 8 rows of 4 features. */
function batch(i: number): { x: Float32Array; y: Float32Array } {
  const x = randomArray(8 * 4, 100 + i)
  const y = Float32Array.from({ length: 8 }, (_, r) => x[r * 4]! - 2 * x[r * 4 + 1]! + 0.5 * x[r * 4 + 2]! + 3 * x[r * 4 + 3]! + 0.5)
  return { x, y }
}

/**
 * Linear regression as a training task: the smallest model whose resume depends on all of a
 * checkpoint (weights, AdamW moments and step, the device RNG through dropout, the data position).
 */
class Regression implements TrainingTask<Metrics, { batches: number }> {
  readonly model: nn.Linear
  readonly optimizer: optim.AdamW
  readonly recipe: Record<string, unknown>
  /** The data position: batches drawn so far. */
  batches = 0

  constructor(
    readonly device: Device,
    private readonly opts: Recipe,
  ) {
    this.model = new nn.Linear(device, 4, 1, { rng: new nn.HostRandom(3) })
    this.optimizer = new optim.AdamW(this.model.namedParameters(), { lr: opts.lr, schedule: optim.warmupCosine(opts.steps, 2, 0.1) })
    this.recipe = { steps: opts.steps, lr: opts.lr }
  }

  recordStep(step: number): RecordedStep<Metrics> {
    const lr = this.optimizer.currentLr()
    const { x, y } = batch(this.batches++)
    if (step === this.opts.poisonAt) y.fill(NaN)
    const read = tidy(() => {
      const pred = this.model.forward(ops.dropout(this.device.tensor(x, [8, 4]), 0.25))
      const loss = ops.mean(ops.square(ops.sub(pred, this.device.tensor(y, [8, 1]))))
      loss.backward()
      optim.clipGradNorm(this.model.parameters(), 1)
      this.optimizer.step()
      this.optimizer.zeroGrad()
      return [loss]
    })
    return { read, metrics: ([loss]) => ({ step, loss: loss![0]!, lr }) }
  }

  state() {
    return { batches: this.batches }
  }

  setState(state: { batches: number }): void {
    this.batches = state.batches
  }
}

const RECIPE: Recipe = { steps: 6, lr: 0.05 }
const devices: Device[] = []
const dirs: string[] = []

async function make(recipe: Recipe = RECIPE): Promise<{ task: Regression; trainer: Trainer<Metrics, { batches: number }> }> {
  const device = await Device.create({ backend: 'cpu', seed: 1 })
  devices.push(device)
  const task = new Regression(device, recipe)
  return { task, trainer: new Trainer(task) }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trainer-'))
  dirs.push(dir)
  return dir
}

const params = async (task: Regression) => [...(await task.model.weight.read()), ...(await task.model.bias!.read())]

afterEach(async () => {
  for (const d of devices.splice(0)) d.destroy()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe('Trainer', () => {
  it('resumes exactly: 6 steps equal 3, a checkpoint, a new trainer resuming it, 3 more', async () => {
    const straight = await make()
    const expected: number[] = []
    await straight.trainer.run({ until: 6, onStep: (m) => expected.push(m.loss) })
    const expectedParams = await params(straight.task)

    const dir = await tempDir()
    const first = await make()
    const losses: number[] = []
    await first.trainer.run({ until: 3, onStep: (m) => losses.push(m.loss), checkpointDir: dir })
    // The checkpoint's caller data is the task's state with the recipe beside its fields.
    const saved = await loadTrainingCheckpoint(dir, { model: first.task.model, optimizer: first.task.optimizer, device: first.task.device })
    expect(saved!.step).toBe(3)
    expect(saved!.extra).toEqual({ batches: 3, recipe: { steps: 6, lr: 0.05 } })

    const second = await make()
    expect(await second.trainer.resume(dir)).toEqual({ step: 3, path: join(dir, io.CHECKPOINT_FILE), fallback: null, verified: true })
    expect(second.trainer.step).toBe(3)
    expect(second.task.batches).toBe(3)
    expect(second.trainer.recipeChanges).toEqual([])
    await second.trainer.run({ until: 6, onStep: (m) => losses.push(m.loss) })
    expect(losses).toEqual(expected)
    expect(await params(second.task)).toEqual(expectedParams)

    // Another recipe takes over from the checkpoint's step, the optimizer's base LR included.
    const changed = await make({ steps: 10, lr: 0.02 })
    expect(await changed.trainer.resume(dir)).toMatchObject({ step: 3, fallback: null })
    expect(changed.trainer.recipeChanges).toEqual(['steps 6 → 10', 'lr 0.05 → 0.02'])
    expect(changed.task.optimizer.lr).toBe(0.02)

    const empty = await make()
    expect(await empty.trainer.resume(await tempDir())).toBe(false)
    expect(empty.trainer.step).toBe(0)
  })

  it('a damaged checkpoint: resume falls back to prev and says so, and the next save moves the damaged file aside instead of keeping it as prev', async () => {
    const dir = await tempDir()
    const first = await make()
    const saves: (io.SavedCheckpoint & { step: number })[] = []
    await first.trainer.run({ until: 4, checkpointDir: dir, checkpointEvery: 2, onCheckpoint: (s) => saves.push(s) })
    expect(saves.map((s) => [s.step, s.previous])).toEqual([[2, 'none'], [4, 'rotated']])
    await first.trainer.run({ until: 5, checkpointDir: dir }) // current: step 5, prev: step 4
    const current = join(dir, io.CHECKPOINT_FILE)
    const bytes = await readFile(current)
    bytes[bytes.length - 2]! ^= 0x10 // a bit of the last tensor's bytes
    await writeFile(current, bytes)

    const heard: io.CheckpointFallback[] = []
    const second = await make()
    const resumed = await second.trainer.resume(dir, { onFallback: (f) => heard.push(f) })
    expect(resumed).toMatchObject({ step: 4, path: join(dir, io.PREVIOUS_CHECKPOINT_FILE), verified: true })
    expect(resumed && resumed.fallback).toMatchObject({ from: current, reason: expect.any(io.CheckpointChecksumError) })
    expect(heard).toHaveLength(1)
    expect(second.trainer.step).toBe(4)
    const state = await loadTrainingCheckpoint(dir, { model: second.task.model, optimizer: second.task.optimizer, device: second.task.device })
    expect(state!.checkpoint.fallback!.reason).toMatchObject({ code: 'checkpoint_checksum', path: current })

    const after: io.SavedCheckpoint[] = []
    await second.trainer.run({ until: 5, checkpointDir: dir, onCheckpoint: (s) => after.push(s) })
    expect(after).toMatchObject([{ previous: 'quarantined', corrupt: expect.any(io.CheckpointChecksumError) }])
    // prev is still the sound step-4 checkpoint.
    await rm(current)
    const third = await make()
    expect(await third.trainer.resume(dir)).toMatchObject({ step: 4, verified: true })
    await expect(readFile(join(dir, io.CORRUPT_CHECKPOINT_FILE))).resolves.toBeDefined()
  })

  it('an aborted run finishes the step in flight, checkpoints there and skips the final evaluation', async () => {
    const dir = await tempDir()
    const { task, trainer } = await make()
    const controller = new AbortController()
    const evals: number[] = []
    const result = await trainer.run({
      until: 6,
      onStep: (m) => m.step === 1 && controller.abort(), // step 2 is in flight by then
      evaluate: async ({ step }) => step,
      onEval: (step) => evals.push(step),
      evalEvery: 100,
      checkpointDir: dir,
      signal: controller.signal,
    })
    expect(result).toBeNull()
    expect(trainer.step).toBe(3)
    expect(evals).toEqual([])
    const saved = await loadTrainingCheckpoint(dir, { model: task.model, optimizer: task.optimizer, device: task.device })
    expect(saved!.step).toBe(3)
  })

  it('evaluates and checkpoints on their cadences and at the end, after the steps before them completed', async () => {
    const dir = await tempDir()
    const { trainer } = await make({ steps: 7, lr: 0.05 })
    const saves: number[] = []
    const save = trainer.saveCheckpoint.bind(trainer)
    trainer.saveCheckpoint = async (d) => {
      saves.push(trainer.step)
      return save(d)
    }
    const evals: { step: number; final: boolean }[] = []
    const recorded: number[] = []
    const last = await trainer.run({
      until: 7,
      onStep: () => recorded.push(trainer.step),
      evaluate: async (at) => at,
      onEval: (at) => evals.push(at),
      evalEvery: 3,
      checkpointDir: dir,
      checkpointEvery: 2,
    })
    expect(evals).toEqual([
      { step: 3, final: false },
      { step: 6, final: false },
      { step: 7, final: true },
    ])
    expect(last).toEqual({ step: 7, final: true })
    expect(saves).toEqual([2, 4, 6, 7])
    // Steps recorded when each step's metrics arrived: one ahead, except before the boundaries (2, 3, 4, 6, 7).
    expect(recorded).toEqual([2, 2, 3, 4, 6, 6, 7])
  })

  it('with a step in flight gives the values of steps run one at a time', async () => {
    const oneAtATime = await make({ steps: 7, lr: 0.05 })
    const expected: Metrics[] = []
    for (let i = 0; i < 7; i++) expected.push(await oneAtATime.trainer.trainStep())
    const pipelined = await make({ steps: 7, lr: 0.05 })
    const got: Metrics[] = []
    const recorded: number[] = []
    await pipelined.trainer.run({
      until: 7,
      onStep: (m) => {
        got.push(m)
        recorded.push(pipelined.trainer.step)
      },
    })
    expect(recorded).toEqual([2, 3, 4, 5, 6, 7, 7])
    expect(got).toEqual(expected)
    expect(await params(pipelined.task)).toEqual(await params(oneAtATime.task))
  })

  it('a non-finite loss stops the run with a TrainingError and frees the step recorded behind it', async () => {
    const { task, trainer } = await make({ steps: 6, lr: 0.05, poisonAt: 2 })
    await trainer.trainStep()
    const live = task.device.memory().storages // weights, AdamW moments
    const error = await trainer.run({ until: 6 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TrainingError)
    expect((error as Error).message).toMatch(/^loss became NaN at step 2 \(lr [\d.e-]+\): lower the learning rate/)
    expect(trainer.step).toBe(4) // step 3 was recorded while step 2 ran
    expect(task.device.memory().storages).toBe(live)
  })
})
