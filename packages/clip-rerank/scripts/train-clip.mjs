#!/usr/bin/env node
// Trains a small CLIP on the emoji captions + images of @tessera/datasets (both vendors; held out
// by emoji) and writes a weights directory (clip.safetensors, tokenizer.json, manifest.json with
// the command, steps, wall time, machine and retrieval metrics).
// Run after `pnpm build`:  node scripts/train-clip.mjs --steps 4000 --batch 128 --out ../../models/clip-emoji
// Ctrl-C (or SIGTERM) checkpoints at the next step boundary; rerun with --resume to continue.
import { parseArgs } from 'node:util'
import { cpus, hostname } from 'node:os'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Device } from '@tessera/tensor-core'
import { loadEmojiDataset, loadPackedDataset } from '@tessera/datasets'
import {
  CLIP,
  ClipTrainer,
  clipTokenizerFromJSON,
  evaluateRetrieval,
  preprocessPixels,
  preset,
  saveClip,
  tokenRows,
  trainCaptionTokenizer,
} from '@tessera/clip-rerank'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '4000' },
    batch: { type: 'string', default: '128' },
    preset: { type: 'string', default: 'emoji-32' },
    config: { type: 'string', default: '{}' },
    'vocab-size': { type: 'string', default: '1024' },
    data: { type: 'string', default: 'emoji' },
    out: { type: 'string', default: '../../models/clip-emoji' },
    checkpoints: { type: 'string', default: '.runs/emoji-clip' },
    resume: { type: 'boolean', default: false },
    export: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'webgpu' },
    seed: { type: 'string', default: '0' },
    lr: { type: 'string', default: '5e-4' },
    'warmup-steps': { type: 'string' },
    'weight-decay': { type: 'string', default: '0.2' },
    'grad-clip': { type: 'string', default: '1' },
    shift: { type: 'string', default: '2' },
    'eval-every': { type: 'string', default: '250' },
    'checkpoint-every': { type: 'string', default: '50' },
    'log-every': { type: 'string', default: '10' },
    autotune: { type: 'string', default: 'yes' },
    help: { type: 'boolean', default: false },
  },
})

if (args.help) {
  console.log(`usage: node scripts/train-clip.mjs [--steps N] [--batch N] [--preset emoji-32] [--config JSON] [--vocab-size N]
  [--data emoji|packed:DIR] [--out DIR] [--checkpoints DIR] [--resume [--export]] [--backend webgpu|cpu] [--seed N]
  [--lr X] [--warmup-steps N] [--weight-decay X] [--grad-clip X (0: off)] [--shift PIXELS] [--eval-every N] [--checkpoint-every N] [--log-every N] [--autotune yes|no]`)
  process.exit(0)
}

const DATA = 'emoji-datasource-twitter + emoji-datasource-google 16.0.0 (64px PNGs over white, bicubic to 32 px), emojibase-data 17.0.0 labels as captions; held-out = base hexcode hash < 0.1 (every vendor and skin tone of an emoji on one side)'
const seed = Number(args.seed)
const steps = Number(args.steps)
const checkpointDir = args.checkpoints
const device = await Device.create({ backend: args.backend, seed })
const config = { ...preset(args.preset), ...JSON.parse(args.config) }

const colon = args.data.indexOf(':')
const [source, dataDir] = colon < 0 ? [args.data, null] : [args.data.slice(0, colon), args.data.slice(colon + 1)]
const [train, heldOut] =
  source === 'packed'
    ? [await loadPackedDataset(join(dataDir, 'emoji-train')), await loadPackedDataset(join(dataDir, 'emoji-heldout'))]
    : [await loadEmojiDataset({ imageSize: config.imageResolution, split: 'train' }), await loadEmojiDataset({ imageSize: config.imageResolution, split: 'heldout' })]

// The tokenizer is trained on the training captions only and kept beside the checkpoints, so a
// resumed run tokenises exactly as before.
await mkdir(checkpointDir, { recursive: true })
const tokenizerFile = join(checkpointDir, 'tokenizer.json')
let tokenizer
if (args.resume && existsSync(tokenizerFile)) tokenizer = clipTokenizerFromJSON(await readFile(tokenizerFile, 'utf8'))
else {
  tokenizer = await trainCaptionTokenizer(train.captions, { vocabSize: Number(args['vocab-size']) })
  await writeFile(tokenizerFile, JSON.stringify(tokenizer.bpe.toJSON()) + '\n')
}
config.vocabSize = tokenizer.vocabSize

const model = new CLIP(device, config, { seed })
const recipe = {
  steps,
  batchSize: Number(args.batch),
  lr: Number(args.lr),
  warmupSteps: args['warmup-steps'] === undefined ? undefined : Number(args['warmup-steps']),
  weightDecay: Number(args['weight-decay']),
  gradClip: Number(args['grad-clip']),
  shift: Number(args.shift),
  dataSeed: seed,
}
const trainer = new ClipTrainer(model, tokenizer, train, recipe)
const resumed = args.resume && (await trainer.resume(checkpointDir))
if (resumed) {
  console.log(`resumed from ${checkpointDir} at step ${trainer.step}`)
  if (trainer.recipeChanges.length) console.log(`recipe changed since the checkpoint (schedules follow the new one from here): ${trainer.recipeChanges.join(', ')}`)
}
if (args.export && !resumed) throw new Error(`--export writes a checkpoint's model: give --resume and a checkpoint in ${checkpointDir}`)

// Held-out: every held-out pair (580 images); held-in: as many training pairs, spread evenly.
const r = config.imageResolution
const l = config.contextLength
function evalSet(data, count) {
  const picks = Array.from({ length: Math.min(count, data.length) }, (_, i) => Math.floor((i * data.length) / Math.min(count, data.length)))
  const per = 3 * data.imageSize * data.imageSize
  const pixels = new Float32Array(picks.length * per)
  picks.forEach((p, i) => pixels.set(data.images.subarray(p * per, (p + 1) * per), i * per))
  return { images: preprocessPixels(pixels, data.imageSize, r), tokens: tokenRows(tokenizer, picks.map((p) => data.captions[p]), l) }
}
const heldOutSet = evalSet(heldOut, heldOut.length)
const heldInSet = evalSet(train, heldOut.length)
const pct = (x) => `${(100 * x).toFixed(1)}%`
async function evaluate({ step }) {
  const started = performance.now()
  const held = await evaluateRetrieval(model, heldOutSet.images, heldOutSet.tokens)
  const seen = await evaluateRetrieval(model, heldInSet.images, heldInSet.tokens)
  console.log(
    `eval step ${step}: held-out (${held.count}) t→i top1 ${pct(held.textToImageTop1)} top5 ${pct(held.textToImageTop5)}, i→t top1 ${pct(held.imageToTextTop1)} top5 ${pct(held.imageToTextTop5)} | ` +
      `held-in (${seen.count}) t→i top1 ${pct(seen.textToImageTop1)} top5 ${pct(seen.textToImageTop5)}, i→t top1 ${pct(seen.imageToTextTop1)} top5 ${pct(seen.imageToTextTop5)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  )
  return { step, heldOut: held, heldIn: seen }
}

console.log(`${device.kind} (${device.adapter.description ?? device.adapter.backend}); ${model.parameterCount()} parameters; ${train.length} train / ${heldOut.length} held-out pairs; tokenizer ${tokenizer.vocabSize} ids; ${JSON.stringify(model.config)}`)

const stop = new AbortController()
const exitCode = (sig) => (sig === 'SIGINT' ? 130 : 143)
let stopAsked = 0
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stop.signal.aborted) {
      if (performance.now() - stopAsked > 1000) process.exit(exitCode(sig))
      return
    }
    console.log(`${sig}: stopping after this step (again to quit now)`)
    stopAsked = performance.now()
    stop.abort(sig)
  })
}

const logEvery = Number(args['log-every'])
let window = { loss: 0, acc: 0, ms: 0, n: 0 }
const started = Date.now()
const evals = []
const last = await trainer.run({
  until: args.export ? trainer.step : steps,
  onStep: (m) => {
    window = { loss: window.loss + m.loss, acc: window.acc + m.batchAccuracy, ms: window.ms + m.ms, n: window.n + 1 }
    if ((m.step + 1) % logEvery === 0) {
      console.log(`step ${m.step + 1}: loss ${(window.loss / window.n).toFixed(4)} batch acc ${pct(window.acc / window.n)} scale ${m.logitScale.toFixed(2)} lr ${m.lr.toExponential(2)} ${(window.ms / window.n).toFixed(0)} ms/step`)
      window = { loss: 0, acc: 0, ms: 0, n: 0 }
    }
  },
  evaluate,
  evalEvery: Number(args['eval-every']),
  onEval: (e) => evals.push(e),
  checkpointDir,
  checkpointEvery: Number(args['checkpoint-every']),
  autotune: device.kind === 'webgpu' && args.autotune !== 'no',
  signal: stop.signal,
})
if (stop.signal.aborted && trainer.step < steps) {
  console.log(`stopped at step ${trainer.step}: checkpoint in ${checkpointDir}; continue with the same arguments and --resume (add --export to write the model as it is)`)
  trainer.dispose()
  device.destroy()
  process.exit(exitCode(stop.signal.reason))
}

const round = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k === 'count' ? v : Number(v.toFixed(4))]))
await saveClip(model, args.out, {
  tokenizer,
  provenance: {
    data: source === 'packed' ? `packed 8-bit copy of ${DATA}` : DATA,
    recipe: { ...trainer.options, backend: device.kind, seed },
    command: `node scripts/train-clip.mjs ${process.argv.slice(2).join(' ')}`,
    trainedSteps: trainer.step,
    ...(!args.export && { wallSeconds: Math.round((Date.now() - started) / 1000) }),
    machine: `${hostname()}: ${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}; ${device.kind} ${device.adapter.description ?? ''}`.trim(),
    metrics: last && { heldOut: round(last.heldOut), heldIn: round(last.heldIn) },
    evalHistory: evals.map((e) => ({ step: e.step, heldOutTextToImageTop5: Number(e.heldOut.textToImageTop5.toFixed(4)), heldInTextToImageTop5: Number(e.heldIn.textToImageTop5.toFixed(4)) })),
  },
})
console.log(`wrote ${args.out}`)
trainer.dispose()
device.destroy()
