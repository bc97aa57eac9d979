#!/usr/bin/env node
// The prior's benchmark on the model (4 layers, width 256, 16 text + 64 image tokens):
// generation with the KV cache against recomputing the whole prefix per token, and training
// tokens/s, Tessera on WebGPU (Dawn; lavapipe on CI machines) beside PyTorch CPU (2 threads) on the
// same layout, in the same run. Writes bench/results/prior.{json,md}.
// Run after `pnpm build`:  pnpm bench   (or node bench/run.mjs [--quick])
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Device, ops, optim } from '@tessera/tensor-core'
import { Prior } from '../dist/index.js'
import { BENCH_CONFIG as CONFIG, ids, trainingStep } from './bench-model.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const ITERATIONS = args.quick ? 1 : 3
const TRAIN_BATCH = 16
const GEN_BATCH = 4
const T = CONFIG.textLength
const HW = CONFIG.gridSize[0] * CONFIG.gridSize[1]

async function best(work) {
  await work() // warm-up: pipeline compilation, pools
  // Each matmul shape runs its fastest variant on this adapter, as in training (tessera train prior
  // autotunes): timed once per adapter and kept under ~/.cache/tessera.
  await ops.autotuneSeenMatmuls(device)
  await work()
  const times = []
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now()
    await work()
    times.push((performance.now() - start) / 1000)
  }
  return { seconds: Math.min(...times), secondsPerIteration: times }
}

const device = await Device.create({ backend: 'webgpu' })
const prior = new Prior(device, CONFIG)
const captions = Array.from({ length: GEN_BATCH }, (_, r) => Array.from(ids(T, CONFIG.textVocabSize, r)))
const generation = {}
for (const kvCache of [true, false]) {
  const r = await best(async () => {
    const tokens = await prior.generate(captions, { kvCache, seed: 1 })
    await tokens.read() // generation records work without waiting for it: time it to the tokens
    tokens.dispose()
  })
  generation[kvCache ? 'kvCache' : 'recompute'] = { tokensPerSecond: (GEN_BATCH * HW) / r.seconds, ...r }
}
const opt = new optim.AdamW(prior.namedParameters(), { lr: 1e-4 })
const text = device.tensor(ids(TRAIN_BATCH * T, CONFIG.textVocabSize, 1), [TRAIN_BATCH, T])
const image = device.tensor(ids(TRAIN_BATCH * HW, CONFIG.imageVocabSize, 2), [TRAIN_BATCH, HW])
const train = await best(() => trainingStep(prior, opt, text, image))
const training = { tokensPerSecond: (TRAIN_BATCH * (T + HW)) / train.seconds, ...train }
const adapter = device.adapter.description || device.adapter.architecture
prior.dispose()
device.destroy()

function torchRun(mode, batch) {
  const run = spawnSync(process.env.TORCH_PYTHON ?? '/usr/bin/python3', [`${here}torch_bench.py`, JSON.stringify({ config: CONFIG, batch, iterations: ITERATIONS, mode })], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
  })
  if (run.status !== 0) return { error: (run.stderr || run.error?.message || 'failed').trim().split('\n').at(-1) }
  return JSON.parse(run.stdout.trim().split('\n').at(-1))
}
const torch = { train: torchRun('train', TRAIN_BATCH), generate: torchRun('generate', GEN_BATCH) }

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  adapter,
  config: CONFIG,
  generation: { batch: GEN_BATCH, ...generation, kvCacheSpeedup: generation.kvCache.tokensPerSecond / generation.recompute.tokensPerSecond, torchRecompute: torch.generate },
  training: { batch: TRAIN_BATCH, tessera: training, torch: torch.train, ratio: torch.train.tokensPerSecond ? training.tokensPerSecond / torch.train.tokensPerSecond : null },
}
const f = (x, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '—')
const md = `# Prior benchmark (${result.date})

Model: 4 layers, width 256, 4 heads, 16 text + 64 image tokens (8 × 8), masks 'dalle'; ${adapter}; ${result.machine.cpus} CPUs, load ${result.machine.loadavg.map((l) => l.toFixed(1)).join(' / ')}. Best of ${ITERATIONS}.

| work | Tessera WebGPU | PyTorch CPU (2 threads) | ratio |
|---|---|---|---|
| generation, KV cache (batch ${GEN_BATCH}), image tokens/s | ${f(generation.kvCache.tokensPerSecond)} | — | — |
| generation, recompute the prefix per token (batch ${GEN_BATCH}), image tokens/s | ${f(generation.recompute.tokensPerSecond)} | ${f(torch.generate.tokensPerSecond)} | ${f(torch.generate.tokensPerSecond ? generation.recompute.tokensPerSecond / torch.generate.tokensPerSecond : null, 2)} |
| KV cache over recompute | ${f(result.generation.kvCacheSpeedup, 2)}× | | |
| training (batch ${TRAIN_BATCH}), tokens/s | ${f(training.tokensPerSecond)} | ${f(torch.train.tokensPerSecond)} | ${f(result.training.ratio, 3)} |
`
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/prior.json`, JSON.stringify(result, null, 2) + '\n')
await writeFile(`${here}results/prior.md`, md)
console.log(md)
