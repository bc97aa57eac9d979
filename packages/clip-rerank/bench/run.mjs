#!/usr/bin/env node
// CLIP's benchmark on the emoji-32 model: image-encoder throughput (inference, one batch) and
// training throughput (forward, backward, clipping, AdamW, clamp: pairs/s), Tessera on WebGPU
// (Dawn; lavapipe here) and on its CPU backend, beside PyTorch CPU (2 threads) on the same
// model, in the same run. Writes bench/results/latest.{json,md}.
// Run after `pnpm build`:  pnpm bench   (or node bench/run.mjs [--quick] [--preset NAME] [--config JSON])
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Device, optim, tidy } from '@tessera/tensor-core'
import { CLIP, clipObjective, preset } from '../dist/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, preset: { type: 'string', default: 'emoji-32' }, config: { type: 'string', default: '{}' } } })
const ITERATIONS = args.quick ? 1 : 3
const CONFIG = { ...preset(args.preset), ...JSON.parse(args.config) }
const ENCODE_BATCH = 256
const TRAIN_BATCH = 64
const r = CONFIG.imageResolution
const l = CONFIG.contextLength
const load = () => loadavg()[0].toFixed(1)

async function best(work) {
  await work() // warm-up: pipeline compilation, pools
  const times = []
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now()
    await work()
    times.push((performance.now() - start) / 1000)
  }
  return Math.min(...times)
}

let seed = 1
const random = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed / 2 ** 32 - 0.5))
const tokens = Int32Array.from({ length: TRAIN_BATCH * l }, (_, i) => (i % l === l - 1 ? CONFIG.vocabSize - 1 : 1 + ((i * 7919) % (CONFIG.vocabSize - 2))))

async function tessera(backend) {
  const device = await Device.create({ backend })
  const model = new CLIP(device, CONFIG)
  const images = device.tensor(random(ENCODE_BATCH * 3 * r * r), [ENCODE_BATCH, 3, r, r])
  const encode = await best(async () => {
    const f = model.encodeImage(images)
    await f.read()
    f.dispose()
  })
  const opt = new optim.AdamW(model.namedParameters(), { lr: 1e-4, betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.2 })
  const trainImages = device.tensor(random(TRAIN_BATCH * 3 * r * r), [TRAIN_BATCH, 3, r, r])
  const trainTokens = device.tensor(tokens, [TRAIN_BATCH, l])
  const train = await best(async () => {
    const loss = tidy(() => {
      const { loss } = clipObjective(model, trainImages, trainTokens)
      loss.backward()
      optim.clipGradNorm(model.parameters(), 1)?.dispose()
      opt.step()
      opt.zeroGrad()
      model.clampLogitScale()
      return loss
    })
    await loss.read()
    loss.dispose()
  })
  const out = { backend: `${device.kind} (${device.adapter.description ?? device.adapter.backend})`, encodeImagesPerSecond: ENCODE_BATCH / encode, trainPairsPerSecond: TRAIN_BATCH / train }
  opt.dispose()
  model.dispose()
  device.destroy()
  return out
}

const loadBefore = load()
const results = [await tessera('webgpu'), await tessera('cpu')]
const py = spawnSync('/usr/bin/python3', [`${here}torch_bench.py`, JSON.stringify(CONFIG), String(ENCODE_BATCH), String(TRAIN_BATCH), String(ITERATIONS)], { encoding: 'utf8' })
if (py.status !== 0) throw new Error(`PyTorch peer failed (bash scripts/setup.sh --with-torch installs it): ${py.stderr}`)
const torch = JSON.parse(py.stdout.trim().split('\n').pop())
const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}; load average ${loadBefore} → ${load()} (a shared machine: ratios are the comparable figure)`
const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
const rows = results.map((t) => `| Tessera ${t.backend} | ${t.encodeImagesPerSecond.toFixed(1)} | ${(t.encodeImagesPerSecond / torch.encodeImagesPerSecond).toFixed(3)} | ${t.trainPairsPerSecond.toFixed(1)} | ${(t.trainPairsPerSecond / torch.trainPairsPerSecond).toFixed(3)} |`)
const md = `# CLIP bench (${when})

Model: ${args.preset} ${JSON.stringify(CONFIG)}. Image encoder: ${ENCODE_BATCH} images per call; training: ${TRAIN_BATCH} pairs per step
(forward both towers, symmetric InfoNCE, backward, clipping, AdamW, clamp). Best of ${ITERATIONS} after a warm-up.
Machine: ${machine}.

| implementation | encode images/s | ratio to PyTorch | train pairs/s | ratio to PyTorch |
|---|---|---|---|---|
${rows.join('\n')}
| PyTorch ${torch.torch} CPU (${torch.threads} threads) | ${torch.encodeImagesPerSecond.toFixed(1)} | 1 | ${torch.trainPairsPerSecond.toFixed(1)} | 1 |
`
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/latest.json`, JSON.stringify({ when, config: CONFIG, machine, tessera: results, torch }, null, 2) + '\n')
await writeFile(`${here}results/latest.md`, md)
console.log(md)
