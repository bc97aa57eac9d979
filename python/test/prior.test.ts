// python/train.py prior under torchrun (2 processes, gloo) against one process with the same global
// batch, against Tessera's own PriorTrainer (CPU backend) on the same bundle and data, and the
// hand-off both ways: the bundle it writes loads in Tessera with PyTorch's logits, its checkpoints
// resume in Tessera, and a run killed mid-way resumes from its last checkpoint.
import { BPETokenizer } from '@tessera/bpe'
import { loadBundle, saveBundle } from '@tessera/dalle'
import { Mulberry32 } from '@tessera/datasets'
import { DiscreteVAE } from '@tessera/dvae'
import { packTokenDataset, Prior, PriorTrainer, tokenDataset, unpackTokenDataset, type TokenDataset } from '@tessera/prior'
import { Device, tidy, io } from '@tessera/tensor-core'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curveDiff, killThenResume, maxAbsDiff, python, readSteps, torchMissing, trainOk, type StepLine } from './helpers.js'

const missing = torchMissing()
const ADJ = ['red', 'blue', 'green', 'small', 'big', 'yellow']
const NOUN = ['heart', 'star', 'circle', 'face', 'dog', 'sun']
const CAPTIONS = ADJ.flatMap((a) => NOUN.map((n) => `a ${a} ${n}`))
const STEPS = 8
// Global batch 8: one process takes 8; two take 4 each, as 2 accumulation steps of 2.
const RECIPE = ['--steps', String(STEPS), '--batch', '8', '--lr', '3e-3', '--warmup', '2', '--threads', '1', '--log-every', '0']
const TESSERA_RECIPE = { steps: STEPS, batchSize: 8, lr: 3e-3, warmupSteps: 2 }

let work: string
let bundleDir: string
let dataDir: string
let train1: TokenDataset
let device: Device
const curves: Record<string, StepLine[]> = {}

function tokensFor(count: number, seed: number): Int32Array {
  const rng = new Mulberry32(seed)
  return Int32Array.from({ length: count * 16 }, () => rng.int(64))
}

beforeAll(async () => {
  if (missing) return
  work = await mkdtemp(join(tmpdir(), 'tessera-torch-prior-'))
  device = await Device.create({ backend: 'cpu' })
  // A tiny bundle, made by Tessera: dVAE preset 'tiny' (4×4 codes of 64), a 3-layer prior with row, column and conv masks.
  const tokenizer = await BPETokenizer.train(CAPTIONS, { vocabSize: 300, minFrequency: 1, lowercase: true, specialTokens: ['<|pad|>'] })
  const dvae = new DiscreteVAE(device, 'tiny', { seed: 1 })
  const prior = new Prior(device, {
    textVocabSize: tokenizer.vocabSize, padId: tokenizer.tokenToId('<|pad|>')!, imageVocabSize: 64, textLength: 6, gridSize: [4, 4],
    width: 32, heads: 2, layers: 3, masks: ['row', 'column', { name: 'conv', kernelSize: 3 }], seed: 3,
  })
  bundleDir = join(work, 'bundle')
  await saveBundle(bundleDir, { tokenizer, dvae, prior, training: { note: 'untrained: for the torchrun tests' } })
  dvae.dispose()
  prior.dispose()
  // Caption + image-token pairs in prepare-emoji.mjs's format.
  dataDir = join(work, 'data')
  await mkdir(dataDir)
  train1 = tokenDataset(CAPTIONS, tokensFor(CAPTIONS.length, 5), 16)
  await writeFile(join(dataDir, 'train.tokens'), packTokenDataset(train1))
  await writeFile(join(dataDir, 'heldout.tokens'), packTokenDataset(tokenDataset(CAPTIONS.slice(0, 6), tokensFor(6, 9), 16)))
})

afterAll(async () => {
  if (missing) return
  device.destroy()
  await rm(work, { recursive: true, force: true })
})

/** Tessera's PriorTrainer on the bundle's prior and tokenizer: the losses of `steps` steps (after resuming `from`, if given). */
async function tesseraCurve(steps: number, from?: string): Promise<StepLine[]> {
  const bundle = await loadBundle(device, bundleDir)
  const { data } = unpackTokenDataset(new Uint8Array(await readFile(join(dataDir, 'train.tokens'))))
  const trainer = new PriorTrainer(bundle.prior, data, bundle.tokenizer, TESSERA_RECIPE)
  if (from) expect(await trainer.resume(from)).toMatchObject({ fallback: null, verified: true }) // PyTorch writes tensor-core's checksums too
  const out: StepLine[] = []
  for (let i = 0; i < steps; i++) {
    const m = await trainer.trainStep()
    out.push({ step: m.step, loss: m.loss, textCe: m.textCe, imageCe: m.imageCe, lr: m.lr })
  }
  trainer.dispose()
  bundle.dispose()
  return out
}

describe('python/train.py prior under torchrun', () => {
  it('two processes (gloo, 2 × 2 accumulation steps × 2 pairs) give the loss curve of one process with the same global batch of 8', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    const one = await trainOk('prior', ['--init', bundleDir, '--data', dataDir, '--out', join(work, 'out-1'), '--log', join(work, 'one.jsonl'), ...RECIPE])
    const two = await trainOk('prior', ['--init', bundleDir, '--data', dataDir, '--out', join(work, 'out-2'), '--log', join(work, 'two.jsonl'), '--accum', '2', ...RECIPE], 2)
    expect(two.output).toMatch(/2 process\(es\), gloo on cpu/)
    curves.one = readSteps(join(work, 'one.jsonl'))
    curves.two = readSteps(join(work, 'two.jsonl'))
    expect(curves.one.map((s) => s.step)).toEqual([...Array(STEPS).keys()])
    const diff = curveDiff(curves.one, curves.two)
    console.log(`prior: 1 vs 2 processes, loss over ${STEPS} steps ${curves.one[0]!.loss.toFixed(5)} → ${curves.one.at(-1)!.loss.toFixed(5)}; largest difference ${diff.toExponential(2)} (text ce ${curveDiff(curves.one, curves.two, 'textCe').toExponential(2)}, image ce ${curveDiff(curves.one, curves.two, 'imageCe').toExponential(2)}); ${one.seconds.toFixed(1)} s vs ${two.seconds.toFixed(1)} s`)
    expect(diff).toBeLessThan(1e-4)
    expect(curves.one.at(-1)!.loss).toBeLessThan(curves.one[0]!.loss) // it learns
  })

  it("one PyTorch process reproduces Tessera's PriorTrainer (CPU backend) step for step: data order, null captions, BPE-dropout, schedule, clipping, AdamW", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.one, 'needs the first test')
    const tessera = await tesseraCurve(STEPS)
    const diff = curveDiff(tessera, curves.one)
    console.log(`prior: Tessera PriorTrainer vs PyTorch (1 process): largest loss difference ${diff.toExponential(2)} over ${STEPS} steps; lr ${curveDiff(tessera, curves.one, 'lr').toExponential(2)}`)
    expect(curveDiff(tessera, curves.one, 'lr')).toBeLessThan(1e-12)
    expect(diff).toBeLessThan(1e-4)
  })

  it("the bundle it writes loads in Tessera unchanged, and Tessera's logits equal PyTorch's on it", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const out = join(work, 'out-2')
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
    expect(manifest.components.prior.provenance.torchTraining.at(-1)).toMatchObject({ processes: 2, backend: 'gloo', toStep: STEPS })
    const bundle = await loadBundle(device, out)
    const n = 4
    const text = Array.from({ length: n }, (_, i) => Array.from(bundle.encodePrompt(CAPTIONS[i * 5]!))).flat()
    const image = tokensFor(n, 11)
    const logits = tidy(() => bundle.prior.forward(device.tensor(Int32Array.from(text), [n, 6]), device.tensor(image, [n, 16])))
    const ours = { text: (await logits.textLogits.read()) as Float32Array, image: (await logits.imageLogits.read()) as Float32Array }
    logits.textLogits.dispose()
    logits.imageLogits.dispose()
    bundle.dispose()
    const dump = join(work, 'logits.safetensors')
    python([
      'import json, torch',
      'from tessera_torch.bundle import locate',
      'from tessera_torch.prior import Prior',
      'from tessera_torch.safetensors import write_safetensors',
      `c = locate(${JSON.stringify(out)}, 'prior')`,
      'm = Prior(c.config); m.load_state_dict(c.weights("weights")); m.eval()',
      `text = torch.tensor(${JSON.stringify(Array.from(text))}).reshape(${n}, 6)`,
      `image = torch.tensor(${JSON.stringify(Array.from(image))}).reshape(${n}, 16)`,
      'with torch.no_grad(): t, i = m(text, image)',
      `write_safetensors(${JSON.stringify(dump)}, {'text': t, 'image': i})`,
    ].join('\n'))
    const { tensors } = await io.readSafetensorsFile(dump)
    const textDiff = maxAbsDiff(ours.text, tensors.text!.data as Float32Array)
    const imageDiff = maxAbsDiff(ours.image, tensors.image!.data as Float32Array)
    console.log(`prior: the trained bundle in Tessera vs PyTorch: text logits within ${textDiff.toExponential(2)}, image logits within ${imageDiff.toExponential(2)}`)
    expect(Math.max(textDiff, imageDiff)).toBeLessThan(1e-4)
  })

  it("Tessera's PriorTrainer resumes PyTorch's checkpoint and continues its curve (checkpoints both ways)", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const ckpt = join(work, 'half.checkpoints')
    await trainOk('prior', ['--init', bundleDir, '--data', dataDir, '--checkpoints', ckpt, '--until', String(STEPS / 2), ...RECIPE], 2)
    const continued = await tesseraCurve(STEPS / 2, ckpt)
    const diff = curveDiff(continued, curves.two.slice(STEPS / 2))
    console.log(`prior: Tessera resuming PyTorch's step-${STEPS / 2} checkpoint: steps ${STEPS / 2}-${STEPS - 1} within ${diff.toExponential(2)} of PyTorch's own`)
    expect(diff).toBeLessThan(1e-4)
  })

  it('a run killed mid-way (SIGKILL of torchrun and both workers) resumes from its last checkpoint and ends on the uninterrupted curve', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const log = join(work, 'killed.jsonl')
    const out = join(work, 'out-killed')
    const args = ['--init', bundleDir, '--data', dataDir, '--out', out, '--log', log, '--accum', '2', '--checkpoint-every', '2', ...RECIPE]
    const { killedAt, resumedFrom } = await killThenResume('prior', args, { log, out, after: 5 })
    expect(resumedFrom).toBeGreaterThanOrEqual(4)
    const diff = curveDiff(readSteps(log), curves.two)
    console.log(`prior: killed after ${killedAt} steps, resumed from the step-${resumedFrom} checkpoint: the whole curve within ${diff.toExponential(2)} of the uninterrupted run`)
    expect(diff).toBe(0)
  })
})
