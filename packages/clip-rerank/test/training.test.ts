import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeShapesDataset } from '@tessera/datasets'
import { ops, tidy } from '@tessera/tensor-core'
import { CLIP, ClipTrainer, contrastiveLoss, excludeFromDecay, MAX_LOGIT_SCALE, retrievalFromSimilarities, trainCaptionTokenizer, type ClipConfig } from '../src/index.js'
import { device } from './helpers.js'

const CONFIG: ClipConfig = {
  embedDim: 16, imageResolution: 32, visionLayers: 1, visionWidth: 32, visionPatchSize: 16, visionHeads: 2,
  contextLength: 8, vocabSize: 600, transformerWidth: 32, transformerHeads: 2, transformerLayers: 1,
}

async function setup() {
  const data = makeShapesDataset({ count: 48, imageSize: 32, seed: 3 })
  const tokenizer = await trainCaptionTokenizer(data.captions, { vocabSize: 600 })
  return { data, tokenizer }
}

describe('contrastive loss', () => {
  it('is the mean of the row and column cross-entropies', async () => {
    const d = await device('cpu')
    const logits = [2, 0.5, -1, 0.3, 1.5, 0.2, -0.4, 0.1, 3]
    const loss = contrastiveLoss(d.tensor(Float32Array.from(logits), [3, 3]))
    const at = (i: number, j: number) => logits[i * 3 + j]!
    const ce = (row: number[], k: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[k]!
    let expected = 0
    for (let i = 0; i < 3; i++) expected += ce([0, 1, 2].map((j) => at(i, j)), i) + ce([0, 1, 2].map((j) => at(j, i)), i)
    expect(await loss.item()).toBeCloseTo(expected / 6, 5)
    loss.dispose()
  })
})

describe('retrieval metrics', () => {
  it('counts ties in favour of the true pair and ranks by strictly higher scores', () => {
    // 3 pairs: image 0 ties its caption with caption 1; caption 2 ranks image 2 third.
    const sim = [0.9, 0.9, 0.1, 0.2, 0.8, 0.3, 0.95, 0.7, 0.5]
    const m = retrievalFromSimilarities(sim, 3)
    expect(m.imageToTextTop1).toBeCloseTo(2 / 3)
    expect(m.textToImageTop1).toBeCloseTo(1 / 3)
    expect(m.textToImageTop5).toBe(1)
  })
})

describe('weight decay groups', () => {
  it("follows open_clip: no decay for gains, biases, logit_scale, the class token", () => {
    expect(excludeFromDecay('logit_scale', 0)).toBe(true)
    expect(excludeFromDecay('visual.class_embedding', 1)).toBe(true)
    expect(excludeFromDecay('transformer.resblocks.0.ln_1.weight', 1)).toBe(true)
    expect(excludeFromDecay('transformer.resblocks.0.attn.in_proj_bias', 1)).toBe(true)
    expect(excludeFromDecay('transformer.resblocks.0.attn.in_proj_weight', 2)).toBe(false)
    expect(excludeFromDecay('token_embedding.weight', 2)).toBe(false)
    expect(excludeFromDecay('visual.proj', 2)).toBe(false)
  })
})

describe('training', () => {
  it('clamps logit_scale to ln 100 as OpenAI', async () => {
    const d = await device('cpu')
    const model = new CLIP(d, CONFIG)
    model.loadStateDict({ logit_scale: { dtype: 'f32', shape: [], data: new Float32Array([7]) } }, { strict: false })
    model.clampLogitScale()
    expect((await model.logitScale.read())[0]).toBeCloseTo(MAX_LOGIT_SCALE, 6)
    model.dispose()
  })

  it('resumes exactly on the CPU backend: steps up to an abort (which checkpoints) + the rest after resuming equal 4 straight steps', async () => {
    const d = await device('cpu')
    const { data, tokenizer } = await setup()
    const recipe = { steps: 4, batchSize: 8, lr: 3e-3, warmupSteps: 1, shift: 1, dataSeed: 5 }
    d.random.setState({ seed: 0, offset: 0 })
    const straight = new CLIP(d, CONFIG, { seed: 1 })
    const t1 = new ClipTrainer(straight, tokenizer, data, recipe)
    const losses: number[] = []
    await t1.run({ until: 4, onStep: (m) => losses.push(m.loss) })
    const dir = await mkdtemp(join(tmpdir(), 'clip-resume-'))
    try {
      d.random.setState({ seed: 0, offset: 0 })
      const first = new CLIP(d, CONFIG, { seed: 1 })
      const t2 = new ClipTrainer(first, tokenizer, data, recipe)
      const stop = new AbortController()
      await t2.run({ until: 4, checkpointDir: dir, signal: stop.signal, onStep: (m) => m.step === 1 && stop.abort() })
      // The step already in flight when the abort came finishes too.
      const stoppedAt = t2.step
      expect(stoppedAt).toBeGreaterThanOrEqual(2)
      expect(stoppedAt).toBeLessThan(4)
      const resumedModel = new CLIP(d, CONFIG, { seed: 99 }) // other initial weights: the checkpoint must replace them all
      const t3 = new ClipTrainer(resumedModel, tokenizer, data, recipe)
      expect(await t3.resume(dir)).toMatchObject({ fallback: null, verified: true })
      expect(t3.step).toBe(stoppedAt)
      expect(t3.recipeChanges).toEqual([])
      const resumedLosses: number[] = []
      await t3.run({ until: 4, onStep: (m) => resumedLosses.push(m.loss) })
      expect(resumedLosses).toEqual(losses.slice(stoppedAt))
      const a = Object.fromEntries(straight.namedParameters())
      for (const [name, p] of resumedModel.namedParameters()) expect(Array.from(await p.read()), name).toEqual(Array.from(await a[name]!.read()))
      for (const t of [t1, t2, t3]) t.dispose()
      for (const m of [straight, first, resumedModel]) m.dispose()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('learns: the batch loss falls on a small caption set (WebGPU)', async () => {
    const d = await device('webgpu')
    const { data, tokenizer } = await setup()
    const model = new CLIP(d, CONFIG, { seed: 2 })
    const trainer = new ClipTrainer(model, tokenizer, data, { steps: 30, batchSize: 16, lr: 3e-3, warmupSteps: 3 })
    const losses: number[] = []
    await trainer.run({ until: 30, onStep: (m) => losses.push(m.loss) })
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.3)
    const scale = tidy(() => ops.exp(model.logitScale))
    expect(await scale.item()).toBeLessThanOrEqual(100 + 1e-3)
    scale.dispose()
    trainer.dispose()
    model.dispose()
  })
})
