#!/usr/bin/env node
// Trains a prior on caption + image-token pairs (from scripts/prepare-emoji.mjs) and writes a prior
// directory (prior.safetensors + manifest.json with recipe and metrics, tokenizer.json beside).
// Ctrl-C (SIGINT/SIGTERM) stops at the next step with a checkpoint; rerun with --resume.
//   node packages/prior/scripts/train-prior.mjs --data packages/prior/.runs/emoji-data --steps 20000 --out packages/prior/.runs/emoji-prior
import { BPETokenizer } from '@tessera/bpe'
import { Device } from '@tessera/tensor-core'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Prior, PriorTrainer, savePrior, unpackTokenDataset } from '../dist/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: 'packages/prior/.runs/emoji-data' },
    out: { type: 'string', default: 'packages/prior/.runs/emoji-prior' },
    checkpoints: { type: 'string' },
    resume: { type: 'boolean', default: false },
    export: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'webgpu' },
    steps: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '1e-3' },
    warmup: { type: 'string', default: '200' },
    'weight-decay': { type: 'string', default: '0.01' },
    'grad-clip': { type: 'string', default: '1' },
    'bpe-dropout': { type: 'string', default: '0.1' },
    'null-caption': { type: 'string', default: '0.1' },
    'text-length': { type: 'string', default: '16' },
    width: { type: 'string', default: '256' },
    heads: { type: 'string', default: '4' },
    layers: { type: 'string', default: '4' },
    masks: { type: 'string', default: 'dalle' },
    seed: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '500' },
    'eval-count': { type: 'string', default: '256' },
    'checkpoint-every': { type: 'string', default: '250' },
    'log-every': { type: 'string', default: '25' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  console.log('usage: node scripts/train-prior.mjs --data DIR --out DIR [--steps N] [--batch N] [--lr X] [--width N --heads N --layers N --masks dalle|JSON] [--resume [--export]] [--backend webgpu|cpu]')
  process.exit(0)
}

const readTokens = async (split) => unpackTokenDataset(new Uint8Array(await readFile(join(args.data, `${split}.tokens`))))
const { data: train, meta } = await readTokens('train')
const { data: heldOut } = await readTokens('heldout')
const tokenizerText = await readFile(join(args.data, 'tokenizer.json'), 'utf8')
const tokenizer = BPETokenizer.fromJSON(JSON.parse(tokenizerText))
const padId = tokenizer.tokenToId('<|pad|>')
if (padId === undefined) throw new Error(`${args.data}/tokenizer.json has no <|pad|> token`)
const grid = [meta.dvaeConfig.imageSize / 2 ** (meta.dvaeConfig.groupCount - 1), meta.dvaeConfig.imageSize / 2 ** (meta.dvaeConfig.groupCount - 1)]

const seed = Number(args.seed)
const steps = Number(args.steps)
const checkpointDir = args.checkpoints ?? join(args.out, 'checkpoints')
const device = await Device.create({ backend: args.backend, seed })
const config = {
  textVocabSize: tokenizer.vocabSize,
  imageVocabSize: meta.dvaeConfig.vocabSize,
  textLength: Number(args['text-length']),
  gridSize: grid,
  width: Number(args.width),
  heads: Number(args.heads),
  layers: Number(args.layers),
  masks: args.masks.startsWith('[') ? JSON.parse(args.masks) : args.masks,
  padId,
  seed,
}
const prior = new Prior(device, config)
const recipe = {
  steps,
  batchSize: Number(args.batch),
  lr: Number(args.lr),
  warmupSteps: Number(args.warmup),
  weightDecay: Number(args['weight-decay']),
  gradClip: Number(args['grad-clip']),
  bpeDropout: Number(args['bpe-dropout']),
  nullCaptionProb: Number(args['null-caption']),
  dataSeed: seed,
}
const trainer = new PriorTrainer(prior, train, tokenizer, recipe)
const resumed = args.resume && (await trainer.resume(checkpointDir))
if (resumed) {
  console.log(`resumed from ${checkpointDir} at step ${trainer.step}`)
  if (trainer.recipeChanges.length) console.log(`recipe changed since the checkpoint: ${trainer.recipeChanges.join(', ')}`)
}
if (args.export && !resumed) throw new Error(`--export writes a checkpoint's model: give --resume and a checkpoint in ${checkpointDir}`)
console.log(`${device.kind} (${device.adapter.description || device.adapter.architecture}); ${prior.parameterCount()} parameters; ${train.length} train / ${heldOut.length} held-out pairs; ${JSON.stringify(prior.config)}`)

const stop = new AbortController()
let stopAsked = 0
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stop.signal.aborted) {
      if (performance.now() - stopAsked > 1000) process.exit(sig === 'SIGINT' ? 130 : 143)
      return
    }
    console.log(`${sig}: stopping after this step (again to quit now)`)
    stopAsked = performance.now()
    stop.abort(sig)
  })
}

// Each run of this script that trains is a segment of the model's history: checkpointDir/segments.json
// keeps them (command, steps, wall time, machine), so an export records how the model was really
// trained, across Ctrl-C, resumes and sessions, not the export's own command.
const segmentsPath = join(checkpointDir, 'segments.json')
const segments = await readFile(segmentsPath, 'utf8').then(JSON.parse, () => [])
const machine = `${hostname()}: ${device.kind} ${device.adapter.description || device.adapter.architecture}`
// A segment ended without a record (killed): it reached the step this run resumed from.
if (segments.length && segments.at(-1).toStep == null) segments.at(-1).toStep = trainer.step
const segment = args.export ? null : { command: `node packages/prior/scripts/train-prior.mjs ${process.argv.slice(2).join(' ')}`, started: new Date().toISOString(), fromStep: trainer.step, toStep: null, wallSeconds: 0, machine }
if (segment) segments.push(segment)
async function recordSegment() {
  if (!segment) return
  segment.toStep = trainer.step
  segment.wallSeconds = Math.round((Date.now() - started) / 1000)
  await mkdir(checkpointDir, { recursive: true })
  await writeFile(segmentsPath, JSON.stringify(segments, null, 2) + '\n')
}

const logEvery = Number(args['log-every'])
let window = []
const started = Date.now()
const evals = []
const last = await trainer.run({
  until: args.export ? trainer.step : steps,
  onStep: (m) => {
    window.push(m)
    if ((m.step + 1) % logEvery !== 0) return
    const mean = (k) => window.reduce((s, x) => s + x[k], 0) / window.length
    console.log(`step ${m.step + 1}: loss ${mean('loss').toFixed(4)} text ${mean('textCe').toFixed(3)} image ${mean('imageCe').toFixed(3)} lr ${m.lr.toExponential(2)} ${mean('ms').toFixed(0)} ms/step`)
    window = []
  },
  evalSet: heldOut,
  evalEvery: Number(args['eval-every']),
  evalCount: Number(args['eval-count']),
  onEval: (m) => {
    evals.push(m)
    void recordSegment()
    console.log(`eval @${m.step}: held-out text ${m.textCe.toFixed(3)} image ${m.imageCe.toFixed(3)} (perplexity ${m.imagePerplexity.toFixed(1)} of ${config.imageVocabSize}) over ${m.pairs} pairs`)
  },
  checkpointDir,
  checkpointEvery: Number(args['checkpoint-every']),
  signal: stop.signal,
  // Matmul variants are timed per shape after the first step on GPU adapters (2-3× on some of
  // this model's shapes on lavapipe; the winners persist per adapter).
  autotune: device.kind === 'webgpu',
})
await recordSegment()
if (stop.signal.aborted && trainer.step < steps) {
  console.log(`stopped at step ${trainer.step}: checkpoint in ${checkpointDir}; continue with the same arguments and --resume (add --export to write the model as it is)`)
  process.exit(0)
}
await savePrior(prior, args.out, {
  training: {
    trainer: 'Tessera PriorTrainer (@tessera/prior)',
    recipe,
    steps: trainer.step,
    // Every segment that trained this checkpoint (segments.json); an export adds none of its own.
    segments,
    wallSeconds: segments.reduce((sum, x) => sum + (x.wallSeconds ?? 0), 0),
    ...(args.export && { exportedWith: `node packages/prior/scripts/train-prior.mjs ${process.argv.slice(2).join(' ')}` }),
    machine,
    data: { source: args.data, dvae: meta.dvae, train: train.length, heldOut: heldOut.length },
    heldOut: last,
  },
})
await cp(join(args.data, 'tokenizer.json'), join(args.out, 'tokenizer.json'))
console.log(`wrote ${args.out} (step ${trainer.step}): held-out ${JSON.stringify(last)}`)
trainer.dispose()
prior.dispose()
device.destroy()
