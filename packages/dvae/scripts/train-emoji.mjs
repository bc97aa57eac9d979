#!/usr/bin/env node
// Trains a dVAE on the emoji dataset (or your own PNGs, or synthetic shapes) and writes a weights directory
// (encoder/decoder safetensors + manifest.json with the recipe and metrics).
// Run after `pnpm build`:  node scripts/train-emoji.mjs --steps 3000 --batch 32 --out ../../models/dvae-emoji-32
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { Device } from '@tessera/tensor-core'
import { loadEmojiDataset, loadImageFolder, loadPackedDataset, makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, formatEval, loadDvae, preset, saveDvae, stepLogger } from '@tessera/dvae'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '3000' },
    batch: { type: 'string', default: '32' },
    preset: { type: 'string', default: 'emoji-32' },
    config: { type: 'string', default: '{}' },
    init: { type: 'string' },
    data: { type: 'string', default: 'emoji' },
    out: { type: 'string', default: '../../models/dvae-emoji-32' },
    checkpoints: { type: 'string' },
    resume: { type: 'boolean', default: false },
    export: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'webgpu' },
    seed: { type: 'string', default: '0' },
    lr: { type: 'string', default: '2e-3' },
    'grad-clip': { type: 'string', default: '1' },
    'kl-weight': { type: 'string', default: '6.6' },
    'kl-warmup': { type: 'string', default: '0' },
    'tau-start': { type: 'string', default: '1' },
    'tau-end': { type: 'string', default: '0.0625' },
    codes: { type: 'string', default: 'gumbel' },
    'tau-steps': { type: 'string' },
    loss: { type: 'string', default: 'logit-laplace' },
    'eval-every': { type: 'string', default: '250' },
    'eval-count': { type: 'string', default: '128' },
    'checkpoint-every': { type: 'string', default: '250' },
    'log-every': { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
})

if (args.help) {
  console.log(`usage: node scripts/train-emoji.mjs [--steps N] [--batch N] [--preset emoji-32|emoji-32-large|tiny|mid|openai] [--config JSON] [--init MODEL_DIR (its weights and config)]
  [--data emoji|shapes|packed:DIR|folder:DIR] [--out DIR] [--checkpoints DIR] [--resume [--export]] [--backend webgpu|cpu] [--seed N]
  [--lr X] [--grad-clip X (0: off)] [--kl-weight X] [--kl-warmup STEPS] [--codes gumbel|straight-through] [--tau-start X] [--tau-end X] [--tau-steps N (default: steps)] [--loss logit-laplace|mse] [--eval-every N] [--eval-count N] [--checkpoint-every N] [--log-every N]`)
  process.exit(0)
}

const EMOJI_DATA =
  'emoji-datasource-twitter + emoji-datasource-google 16.0.0 (64px PNGs over white, bicubic to imageSize), emojibase-data 17.0.0 captions; held-out = base hexcode hash < 0.1'
const seed = Number(args.seed)
const steps = Number(args.steps)
const checkpointDir = args.checkpoints ?? join(args.out, 'checkpoints')
const device = await Device.create({ backend: args.backend, seed })
// --init starts from a trained model's weights (and its config): fine-tuning, e.g. with
// straight-through codes after a gumbel run. Its manifest is kept in the new one.
const init = args.init ? await loadDvae(device, args.init) : null
if (init && args.config !== '{}') throw new Error('--init takes the config of the model it loads: drop --config')
const config = { ...JSON.parse(args.config) }
const dvae = init?.model ?? new DiscreteVAE(device, { ...preset(args.preset), ...config }, { seed })
const size = dvae.config.imageSize
// packed:DIR reads the splits @tessera/datasets' scripts/pack-emoji.mjs wrote (machines without
// the emoji npm packages); folder:DIR trains on every PNG under DIR (captions from DIR/x.txt
// beside DIR/x.png), holding out 10% by path.
const colon = args.data.indexOf(':')
const [source, dataDir] = colon < 0 ? [args.data, null] : [args.data.slice(0, colon), args.data.slice(colon + 1)]
const SHAPES_TRAIN = { count: 16384, seed: 0 }
const SHAPES_EVAL = { count: 256, seed: 1 }
async function loadSplits() {
  switch (source) {
    case 'shapes':
      // The compositional set's training split (one or two shapes, sizes, relations): its held-out
      // combinations stay unseen by every stage of a shapes bundle.
      return [SHAPES_TRAIN, SHAPES_EVAL].map(({ count, seed: offset }) => makeShapesDataset({ count, imageSize: size, seed: seed + offset, split: 'train', maxShapes: 2, sizeWords: 'some' }))
    case 'packed':
      return [await loadPackedDataset(join(dataDir, 'emoji-train')), await loadPackedDataset(join(dataDir, 'emoji-heldout'))]
    case 'folder':
      return [await loadImageFolder(dataDir, { imageSize: size, split: 'train' }), await loadImageFolder(dataDir, { imageSize: size, split: 'heldout' })]
    case 'emoji':
      return [await loadEmojiDataset({ imageSize: size, split: 'train' }), await loadEmojiDataset({ imageSize: size, split: 'heldout' })]
    default:
      throw new Error(`--data ${args.data}: use emoji, shapes, packed:DIR or folder:DIR`)
  }
}
const [train, heldOut] = await loadSplits()
if (train.imageSize !== size) throw new Error(`the data is ${train.imageSize} px, the model ${size} px`)
if (heldOut.length === 0) throw new Error(`--data ${args.data} has no held-out images to evaluate on: add more images`)

const recipe = {
  steps,
  batchSize: Number(args.batch),
  lr: Number(args.lr),
  gradClip: Number(args['grad-clip']) > 0 ? Number(args['grad-clip']) : undefined,
  klWeight: Number(args['kl-weight']),
  klWarmupSteps: Number(args['kl-warmup']),
  tauStart: Number(args['tau-start']),
  tauEnd: Number(args['tau-end']),
  codes: args.codes,
  tauSteps: args['tau-steps'] === undefined ? undefined : Number(args['tau-steps']),
  loss: args.loss,
  dataSeed: seed,
}
const trainer = new DvaeTrainer(dvae, train, recipe)
const resumed = args.resume && (await trainer.resume(checkpointDir))
if (resumed) {
  console.log(`resumed from ${checkpointDir} at step ${trainer.step}`)
  if (trainer.recipeChanges.length) console.log(`recipe changed since the checkpoint (schedules follow the new one from here): ${trainer.recipeChanges.join(', ')}`)
}
// --export writes the checkpoint's model as it is (evaluated, with its manifest) and trains no step:
// for a run stopped early, e.g. by a GPU lease's time limit.
if (args.export && !resumed) throw new Error(`--export writes a checkpoint's model: give --resume and a checkpoint in ${checkpointDir}`)
console.log(`${device.kind} (${device.adapter.description ?? device.adapter.backend}); ${dvae.parameterCount()} parameters; ${train.length} train / ${heldOut.length} held-out images; ${JSON.stringify(dvae.config)}`)

// Ctrl-C or a job's time limit (SIGINT / SIGTERM) stops at the next step boundary with a
// checkpoint, so a rerun with --resume loses nothing; a second signal quits at once. Copies of
// the first that arrive within a second are the same request: GNU timeout signals the command
// and then its whole process group, and a terminal's Ctrl-C reaches wrappers that forward it.
const stop = new AbortController()
const exitCode = (sig) => (sig === 'SIGINT' ? 130 : 143) // 128 + the signal's number, as shells report
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
const started = Date.now()
const evals = []
const last = await trainer.run({
  until: args.export ? trainer.step : steps,
  onStep: stepLogger({ every: Number(args['log-every']) }),
  onEval: (m) => {
    evals.push(m)
    console.log(formatEval(m))
  },
  evalSet: heldOut,
  evalEvery: Number(args['eval-every']),
  evalCount: Number(args['eval-count']),
  checkpointDir,
  checkpointEvery: Number(args['checkpoint-every']),
  // Matmul variants are timed per shape after the first step on GPU adapters (persisted per adapter).
  autotune: device.kind === 'webgpu',
  signal: stop.signal,
})
if (stop.signal.aborted && trainer.step < steps) {
  console.log(`stopped at step ${trainer.step}: checkpoint in ${checkpointDir}; continue with the same arguments and --resume (add --export to write the model as it is)`)
  trainer.dispose()
  device.destroy()
  process.exit(exitCode(stop.signal.reason))
}

await saveDvae(dvae, args.out, {
  data: {
    shapes: 'synthetic shapes',
    folder: `the PNGs under ${dataDir} (over white, bicubic to imageSize); held-out = path hash < 0.1`,
    emoji: EMOJI_DATA,
    packed: `packed 8-bit copy of ${EMOJI_DATA}`,
  }[source],
  recipe: { ...trainer.options, backend: device.kind, seed },
  command: `node scripts/train-emoji.mjs ${process.argv.slice(2).join(' ')}`,
  ...(init && { initialisedFrom: { dir: args.init, ...init.manifest } }),
  trainedSteps: trainer.step,
  ...(!args.export && { wallSeconds: Math.round((Date.now() - started) / 1000) }), // an export trained nothing
  metrics: last && { heldOutPsnrDb: Number(last.psnr.toFixed(2)), heldOutPerplexity: Number(last.perplexity.toFixed(1)), vocabSize: dvae.config.vocabSize, heldOutImages: last.images },
  evalHistory: evals.map((m) => ({ step: m.step, psnr: Number(m.psnr.toFixed(2)), perplexity: Number(m.perplexity.toFixed(1)) })),
})
console.log(`wrote ${args.out}`)
trainer.dispose()
device.destroy()
