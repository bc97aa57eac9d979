// python/train.py clip under torchrun (2 processes, gloo; features all-gathered so each rank's loss
// is the whole batch's InfoNCE) against one process, against Tessera's ClipTrainer (CPU backend,
// with the shift augmentation), and the CLIP directory it writes loaded back by Tessera.
import { CLIP, ClipTrainer, loadClip, saveClip, trainCaptionTokenizer } from '@tessera/clip-rerank'
import { loadPackedDataset, makeShapesDataset, Mulberry32, savePackedDataset } from '@tessera/datasets'
import { Device, tidy, io } from '@tessera/tensor-core'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curveDiff, maxAbsDiff, python, readSteps, torchMissing, trainOk, type StepLine } from './helpers.js'

const missing = torchMissing()
const STEPS = 5
const RECIPE = ['--steps', String(STEPS), '--batch', '8', '--lr', '2e-3', '--warmup', '1', '--shift', '1', '--threads', '1', '--log-every', '0', '--train', 'shapes-train', '--heldout', 'shapes-heldout']
const TESSERA_RECIPE = { steps: STEPS, batchSize: 8, lr: 2e-3, warmupSteps: 1, shift: 1 }

let work: string
let clipDir: string
let dataDir: string
const curves: Record<string, StepLine[]> = {}

beforeAll(async () => {
  if (missing) return
  work = await mkdtemp(join(tmpdir(), 'tessera-torch-clip-'))
  dataDir = join(work, 'data')
  await mkdir(dataDir)
  const trainSet = makeShapesDataset({ count: 24, imageSize: 16, seed: 6 })
  await savePackedDataset(trainSet, join(dataDir, 'shapes-train'))
  await savePackedDataset(makeShapesDataset({ count: 8, imageSize: 16, seed: 7 }), join(dataDir, 'shapes-heldout'))
  const device = await Device.create({ backend: 'cpu' })
  const tokenizer = await trainCaptionTokenizer(trainSet.captions, { vocabSize: 560 })
  const clip = new CLIP(device, {
    embedDim: 16, imageResolution: 16, visionLayers: 1, visionWidth: 32, visionPatchSize: 8, visionHeads: 2,
    contextLength: 8, vocabSize: tokenizer.vocabSize, transformerWidth: 32, transformerHeads: 2, transformerLayers: 1,
  }, { seed: 4 })
  clipDir = join(work, 'clip')
  await saveClip(clip, clipDir, { tokenizer })
  clip.dispose()
  device.destroy()
})

afterAll(async () => {
  if (!missing) await rm(work, { recursive: true, force: true })
})

describe('python/train.py clip under torchrun', () => {
  it('two processes (gloo, features all-gathered) give the loss curve of one process with the same global batch of 8', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    const one = await trainOk('clip', ['--init', clipDir, '--data', dataDir, '--out', join(work, 'out-1'), '--log', join(work, 'one.jsonl'), ...RECIPE])
    const two = await trainOk('clip', ['--init', clipDir, '--data', dataDir, '--out', join(work, 'out-2'), '--log', join(work, 'two.jsonl'), ...RECIPE], 2)
    expect(two.output).toMatch(/2 process\(es\), gloo on cpu/)
    curves.one = readSteps(join(work, 'one.jsonl'))
    curves.two = readSteps(join(work, 'two.jsonl'))
    const diff = curveDiff(curves.one, curves.two)
    console.log(`clip: 1 vs 2 processes, loss over ${STEPS} steps ${curves.one[0]!.loss.toFixed(5)} → ${curves.one.at(-1)!.loss.toFixed(5)}; largest difference ${diff.toExponential(2)}; ${one.seconds.toFixed(1)} s vs ${two.seconds.toFixed(1)} s`)
    expect(diff).toBeLessThan(1e-4)
    expect(curveDiff(curves.one, curves.two, 'logitScale')).toBeLessThan(1e-4)
  })

  it("one PyTorch process reproduces Tessera's ClipTrainer (CPU backend): data order, shift augmentation, schedule, clipping, logit_scale clamp", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.one, 'needs the first test')
    const device = await Device.create({ backend: 'cpu' })
    const { model, tokenizer } = await loadClip(device, clipDir)
    const trainer = new ClipTrainer(model, tokenizer, await loadPackedDataset(join(dataDir, 'shapes-train')), TESSERA_RECIPE)
    const tessera: StepLine[] = []
    for (let i = 0; i < STEPS; i++) {
      const m = await trainer.trainStep()
      tessera.push({ step: m.step, loss: m.loss, lr: m.lr, logitScale: m.logitScale, batchAccuracy: m.batchAccuracy })
    }
    trainer.dispose()
    model.dispose()
    device.destroy()
    const diff = curveDiff(tessera, curves.one)
    console.log(`clip: Tessera ClipTrainer vs PyTorch (1 process): largest loss difference ${diff.toExponential(2)} over ${STEPS} steps`)
    expect(curveDiff(tessera, curves.one, 'lr')).toBeLessThan(1e-12)
    expect(diff).toBeLessThan(1e-4)
  })

  it("the CLIP directory it writes loads in Tessera unchanged: image and text features equal PyTorch's", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!curves.two, 'needs the first test')
    const out = join(work, 'out-2')
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).torchTraining.at(-1)).toMatchObject({ processes: 2, toStep: STEPS })
    const device = await Device.create({ backend: 'cpu' })
    const { model, tokenizer } = await loadClip(device, out)
    const rng = new Mulberry32(3)
    const images = Float32Array.from({ length: 2 * 3 * 16 * 16 }, () => rng.next() * 2 - 1)
    const rows = tokenizer.tokenize(['a red circle', 'a big blue square'], { contextLength: 8, truncate: true })
    const tokens = Int32Array.from(rows.flatMap((r) => Array.from(r)))
    const [imgT, txtT] = tidy(() => [model.encodeImage(device.tensor(images, [2, 3, 16, 16])), model.encodeText(device.tensor(tokens, [2, 8]))])
    const ours = { image: (await imgT!.read()) as Float32Array, text: (await txtT!.read()) as Float32Array }
    imgT!.dispose()
    txtT!.dispose()
    model.dispose()
    device.destroy()
    const dump = join(work, 'clip.safetensors')
    python([
      'import torch',
      'from tessera_torch.bundle import locate',
      'from tessera_torch.clip import build',
      'from tessera_torch.safetensors import write_safetensors',
      `c = locate(${JSON.stringify(out)}, 'clip')`,
      'm = build(c.config); m.load_state_dict(c.weights("weights")); m.eval()',
      `x = torch.tensor(${JSON.stringify(Array.from(images))}).reshape(2, 3, 16, 16)`,
      `t = torch.tensor(${JSON.stringify(Array.from(tokens))}).reshape(2, 8)`,
      'with torch.no_grad(): img = m.encode_image(x); txt = m.encode_text(t)',
      `write_safetensors(${JSON.stringify(dump)}, {'image': img, 'text': txt})`,
    ].join('\n'))
    const { tensors } = await io.readSafetensorsFile(dump)
    const imageDiff = maxAbsDiff(ours.image, tensors.image!.data as Float32Array)
    const textDiff = maxAbsDiff(ours.text, tensors.text!.data as Float32Array)
    console.log(`clip: the trained CLIP in Tessera vs PyTorch: image features within ${imageDiff.toExponential(2)}, text features within ${textDiff.toExponential(2)}`)
    expect(Math.max(imageDiff, textDiff)).toBeLessThan(1e-4)
  })
})
