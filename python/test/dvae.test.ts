// python/train.py dvae under torchrun (2 processes, gloo) against one process with the same global
// batch, against Tessera's own DvaeTrainer (CPU backend: the same batches and the same Philox
// Gumbel noise), the bundle it writes in Tessera, its checkpoint resumed by Tessera, and a run
// killed mid-way resuming.
import { BPETokenizer } from '@tessera/bpe'
import { loadBundle, saveBundle } from '@tessera/dalle'
import { loadPackedDataset, makeShapesDataset, Mulberry32, savePackedDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer } from '@tessera/dvae'
import { Prior } from '@tessera/prior'
import { Device, tidy, io } from '@tessera/tensor-core'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curveDiff, killThenResume, maxAbsDiff, python, readSteps, torchMissing, trainOk, type StepLine } from './helpers.js'

const missing = torchMissing()
const STEPS = 6
// 16 px images → a 4×4 grid of 32 codes; three groups of one block, 8 hidden channels.
const DVAE = { groupCount: 3, nHid: 8, nBlkPerGroup: 1, channels: 3, vocabSize: 32, nInit: 8, imageSize: 16 }
const RECIPE = ['--steps', String(STEPS), '--batch', '8', '--lr', '3e-3', '--warmup', '2', '--grad-clip', '1', '--threads', '1', '--log-every', '0', '--train', 'shapes-train', '--heldout', 'shapes-heldout']
const TESSERA_RECIPE = { steps: STEPS, batchSize: 8, lr: 3e-3, warmupSteps: 2, gradClip: 1 }

let work: string
let bundleDir: string
let dataDir: string
const curves: Record<string, StepLine[]> = {}

beforeAll(async () => {
  if (missing) return
  work = await mkdtemp(join(tmpdir(), 'tessera-torch-dvae-'))
  const device = await Device.create({ backend: 'cpu' })
  const tokenizer = await BPETokenizer.train(['a red circle', 'a blue square'], { vocabSize: 270, minFrequency: 1, lowercase: true, specialTokens: ['<|pad|>'] })
  const dvae = new DiscreteVAE(device, DVAE, { seed: 2 })
  const prior = new Prior(device, { textVocabSize: tokenizer.vocabSize, padId: tokenizer.tokenToId('<|pad|>')!, imageVocabSize: 32, textLength: 4, gridSize: [4, 4], width: 16, heads: 2, layers: 1, masks: ['row'] })
  bundleDir = join(work, 'bundle')
  await saveBundle(bundleDir, { tokenizer, dvae, prior, training: { note: 'untrained: for the torchrun tests' } })
  dvae.dispose()
  prior.dispose()
  device.destroy()
  // Packed images in pack-emoji.mjs's format (@tessera/datasets savePackedDataset).
  dataDir = join(work, 'data')
  await mkdir(dataDir)
  await savePackedDataset(makeShapesDataset({ count: 20, imageSize: 16, seed: 4 }), join(dataDir, 'shapes-train'))
  await savePackedDataset(makeShapesDataset({ count: 6, imageSize: 16, seed: 5 }), join(dataDir, 'shapes-heldout'))
})

afterAll(async () => {
  if (!missing) await rm(work, { recursive: true, force: true })
})

/** Tessera's DvaeTrainer on the bundle's dVAE, on a fresh device (seed 0: the stream the Gumbel noise comes from). */
async function tesseraCurve(steps: number, from?: string): Promise<StepLine[]> {
  const device = await Device.create({ backend: 'cpu', seed: 0 })
  const bundle = await loadBundle(device, bundleDir)
  const data = await loadPackedDataset(join(dataDir, 'shapes-train'))
  const trainer = new DvaeTrainer(bundle.dvae, data, TESSERA_RECIPE)
  if (from) expect(await trainer.resume(from)).toMatchObject({ fallback: null, verified: true }) // PyTorch writes tensor-core's checksums too
  const out: StepLine[] = []
  for (let i = 0; i < steps; i++) {
    const m = await trainer.trainStep()
    out.push({ step: m.step, loss: m.loss, recon: m.recon, kl: m.kl, tau: m.tau, klWeight: m.klWeight, lr: m.lr, perplexity: m.perplexity, deadCodes: m.deadCodes })
  }
  trainer.dispose()
  bundle.dispose()
  device.destroy()
  return out
}

describe('python/train.py dvae under torchrun', () => {
  it('two processes (gloo, 2 × 2 accumulation steps × 2 images) give the loss curve of one process with the same global batch of 8', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    const one = await trainOk('dvae', ['--init', bundleDir, '--data', dataDir, '--out', join(work, 'out-1'), '--log', join(work, 'one.jsonl'), ...RECIPE])
    const two = await trainOk('dvae', ['--init', bundleDir, '--data', dataDir, '--out', join(work, 'out-2'), '--log', join(work, 'two.jsonl'), '--accum', '2', ...RECIPE], 2)
    expect(two.output).toMatch(/2 process\(es\), gloo on cpu/)
    curves.one = readSteps(join(work, 'one.jsonl'))
    curves.two = readSteps(join(work, 'two.jsonl'))
    expect(curves.one.map((s) => s.step)).toEqual([...Array(STEPS).keys()])
    const diff = curveDiff(curves.one, curves.two)
    console.log(`dvae: 1 vs 2 processes, loss over ${STEPS} steps ${curves.one[0]!.loss.toFixed(5)} → ${curves.one.at(-1)!.loss.toFixed(5)}; largest difference ${diff.toExponential(2)} (recon ${curveDiff(curves.one, curves.two, 'recon').toExponential(2)}, kl ${curveDiff(curves.one, curves.two, 'kl').toExponential(2)}); ${one.seconds.toFixed(1)} s vs ${two.seconds.toFixed(1)} s`)
    expect(diff).toBeLessThan(1e-4)
    expect(curves.one.map((s) => s.perplexity)).toEqual(curves.two.map((s) => s.perplexity))
  })

  it("one PyTorch process reproduces Tessera's DvaeTrainer (CPU backend) step for step: data order, Philox Gumbel noise, tau and KL schedules, clipping, AdamW", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.one, 'needs the first test')
    const tessera = await tesseraCurve(STEPS)
    const diff = curveDiff(tessera, curves.one)
    console.log(`dvae: Tessera DvaeTrainer vs PyTorch (1 process): largest loss difference ${diff.toExponential(2)} over ${STEPS} steps (recon ${curveDiff(tessera, curves.one, 'recon').toExponential(2)}, kl ${curveDiff(tessera, curves.one, 'kl').toExponential(2)})`)
    for (const key of ['lr', 'tau', 'klWeight']) expect(curveDiff(tessera, curves.one, key)).toBeLessThan(1e-12)
    expect(diff).toBeLessThan(1e-4)
    expect(tessera.map((s) => s.deadCodes)).toEqual(curves.one.map((s) => s.deadCodes))
  })

  it("the bundle it writes loads in Tessera unchanged: encoder logits and decoded images equal PyTorch's", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const out = join(work, 'out-2')
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
    expect(manifest.components.dvae.provenance.torchTraining.at(-1)).toMatchObject({ processes: 2, backend: 'gloo', toStep: STEPS })
    const device = await Device.create({ backend: 'cpu' })
    const bundle = await loadBundle(device, out)
    const rng = new Mulberry32(8)
    const images = Float32Array.from({ length: 3 * 3 * 16 * 16 }, () => rng.next())
    const tokens = Int32Array.from({ length: 3 * 16 }, () => rng.int(32))
    const [logitsT, decodedT] = tidy(() => [bundle.dvae.logits(device.tensor(images, [3, 3, 16, 16])), bundle.dvae.decode(bundle.dvae.tokens(tokens, [3, 4, 4]))])
    const ours = { logits: (await logitsT!.read()) as Float32Array, decoded: (await decodedT!.read()) as Float32Array }
    logitsT!.dispose()
    decodedT!.dispose()
    bundle.dispose()
    device.destroy()
    const dump = join(work, 'dvae.safetensors')
    python([
      'import torch',
      'from tessera_torch.bundle import locate',
      'from tessera_torch.dvae import build, images_of, map_pixels',
      'from tessera_torch.safetensors import write_safetensors',
      `c = locate(${JSON.stringify(out)}, 'dvae')`,
      'enc, dec = build(c.config); enc.load_state_dict(c.weights("encoder")); dec.load_state_dict(c.weights("decoder"))',
      `x = torch.tensor(${JSON.stringify(Array.from(images))}).reshape(3, 3, 16, 16)`,
      `t = torch.tensor(${JSON.stringify(Array.from(tokens))}).reshape(3, 4, 4)`,
      'with torch.no_grad(): logits = enc(map_pixels(x)); decoded = images_of(dec, t, 32)',
      `write_safetensors(${JSON.stringify(dump)}, {'logits': logits, 'decoded': decoded})`,
    ].join('\n'))
    const { tensors } = await io.readSafetensorsFile(dump)
    const logitsDiff = maxAbsDiff(ours.logits, tensors.logits!.data as Float32Array)
    const decodedDiff = maxAbsDiff(ours.decoded, tensors.decoded!.data as Float32Array)
    console.log(`dvae: the trained bundle in Tessera vs PyTorch: encoder logits within ${logitsDiff.toExponential(2)}, decoded images within ${decodedDiff.toExponential(2)}`)
    expect(Math.max(logitsDiff, decodedDiff)).toBeLessThan(1e-4)
  })

  it("Tessera's DvaeTrainer resumes PyTorch's checkpoint (weights, moments, data position, random stream, code usage) and continues its curve", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const ckpt = join(work, 'half.checkpoints')
    await trainOk('dvae', ['--init', bundleDir, '--data', dataDir, '--checkpoints', ckpt, '--until', String(STEPS / 2), ...RECIPE], 2)
    const continued = await tesseraCurve(STEPS / 2, ckpt)
    const diff = curveDiff(continued, curves.two.slice(STEPS / 2))
    console.log(`dvae: Tessera resuming PyTorch's step-${STEPS / 2} checkpoint: steps ${STEPS / 2}-${STEPS - 1} within ${diff.toExponential(2)} of PyTorch's own`)
    expect(diff).toBeLessThan(1e-4)
    expect(continued.map((s) => s.deadCodes)).toEqual(curves.two.slice(STEPS / 2).map((s) => s.deadCodes))
  })

  it('a run killed mid-way (SIGKILL of torchrun and both workers) resumes from its last checkpoint and ends on the uninterrupted curve', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const log = join(work, 'killed.jsonl')
    const out = join(work, 'out-killed')
    const args = ['--init', bundleDir, '--data', dataDir, '--out', out, '--log', log, '--accum', '2', '--checkpoint-every', '2', ...RECIPE]
    const { killedAt, resumedFrom } = await killThenResume('dvae', args, { log, out, after: 3 })
    expect(resumedFrom).toBeGreaterThanOrEqual(2)
    const diff = curveDiff(readSteps(log), curves.two)
    console.log(`dvae: killed after ${killedAt} steps, resumed from the step-${resumedFrom} checkpoint: the whole curve within ${diff.toExponential(2)} of the uninterrupted run`)
    expect(diff).toBe(0)
  })
})
