#!/usr/bin/env node
// KV-cache generation with packed weights kept between tokens (tensor-core's pack cache, the
// default) against repacking B on every product (packCacheBytes 0, as before the cache), in one
// process, the two interleaved (order alternating per round) so machine load hits both alike.
// Then tensor-core's profiler on one generation in each mode: the share of kernel time spent
// packing. Same model as bench/run.mjs (4 layers, width 256, 16 text + 64 image tokens, batch 4).
// Last, training steps (batch 16) in both modes, interleaved: parameters' packs are kept there
// too (until the optimizer step writes them), which must not slow training down.
//   node bench/pack-cache.mjs [--rounds 4] [--train-rounds 3] [--no-autotune] [--no-profile] [--out results/pack-cache.json]
// Writes bench/results/pack-cache.json (the committed runs: results/pack-cache-run{1,2}.json).
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Device, ops, optim, profileKernels } from '@tessera/tensor-core'
import { Prior } from '../dist/index.js'
import { BENCH_CONFIG as CONFIG, ids, trainingStep } from './bench-model.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, 'no-autotune': { type: 'boolean', default: false }, 'no-profile': { type: 'boolean', default: false }, out: { type: 'string', default: 'results/pack-cache.json' }, 'train-rounds': { type: 'string', default: '3' } },
})
const GEN_BATCH = 4
const T = CONFIG.textLength
const HW = CONFIG.gridSize[0] * CONFIG.gridSize[1]

const device = await Device.create({ backend: 'webgpu' })
const prior = new Prior(device, CONFIG)
const captions = Array.from({ length: GEN_BATCH }, (_, r) => Array.from(ids(T, CONFIG.textVocabSize, r)))
const CAP = device.packCacheBytes
const MODES = { repack: 0, cached: CAP }

async function generate() {
  const tokens = await prior.generate(captions, { kvCache: true, seed: 1 })
  const values = await tokens.read() // generation records work without waiting for it: time it to the tokens
  tokens.dispose()
  return values
}

async function timed(mode) {
  device.packCacheBytes = MODES[mode] // 0 frees every pack: the cached mode starts cold, like a first generate
  device.resetKernelStats()
  const start = performance.now()
  const tokens = await generate()
  const seconds = (performance.now() - start) / 1000
  const stats = device.kernelStats()
  const packs = Object.entries(stats.dispatches).filter(([k]) => k.startsWith('matmul.packB')).reduce((s, [, n]) => s + n, 0)
  const matmuls = Object.entries(stats.dispatches).filter(([k]) => k.startsWith('matmul.') && !k.startsWith('matmul.packB')).reduce((s, [, n]) => s + n, 0)
  return { seconds, tokensPerSecond: (GEN_BATCH * HW) / seconds, packs, matmuls, dispatches: Object.values(stats.dispatches).reduce((s, n) => s + n, 0), tokens }
}

// Warm-up compiles every pipeline; then the matmul classes generation meets are autotuned (not
// persisted), as bench/run.mjs does, so both modes run the variants a tuned run would.
await generate()
if (!args['no-autotune']) await ops.autotuneSeenMatmuls(device, { persist: false })
for (const mode of Object.keys(MODES)) await timed(mode)

const runs = { repack: [], cached: [] }
let reference = null
for (let round = 0; round < Number(args.rounds); round++) {
  const order = round % 2 === 0 ? ['repack', 'cached'] : ['cached', 'repack']
  for (const mode of order) {
    const r = await timed(mode)
    // Both modes must sample the very same tokens.
    const key = Array.from(r.tokens).join(',')
    reference ??= key
    if (key !== reference) throw new Error(`${mode} generated different tokens`)
    delete r.tokens
    runs[mode].push(r)
    console.log(`round ${round} ${mode.padEnd(6)} ${r.tokensPerSecond.toFixed(1)} image tokens/s (${r.seconds.toFixed(2)} s), ${r.packs} pack / ${r.matmuls} matmul dispatches, load ${loadavg()[0].toFixed(1)}`)
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const summary = Object.fromEntries(
  Object.entries(runs).map(([mode, rs]) => [mode, { medianTokensPerSecond: median(rs.map((r) => r.tokensPerSecond)), bestTokensPerSecond: Math.max(...rs.map((r) => r.tokensPerSecond)), packsPerGeneration: rs[0].packs, matmulsPerGeneration: rs[0].matmuls, dispatchesPerGeneration: rs[0].dispatches }]),
)
// Per round, the cached run over the repack run of the same round (adjacent in time).
const ratios = runs.cached.map((c, i) => c.tokensPerSecond / runs.repack[i].tokensPerSecond)

const profiles = {}
if (!args['no-profile']) {
  for (const mode of Object.keys(MODES)) {
    device.packCacheBytes = MODES[mode]
    await generate() // the cached mode profiles a warm generate: its packs were made by this one
    const profile = await profileKernels(device, async () => void (await generate()), { repeats: 3 })
    const total = profile.reduce((s, p) => s + p.totalMs, 0)
    const pack = profile.filter((p) => p.kernel.startsWith('matmul.packB')).reduce((s, p) => s + p.totalMs, 0)
    const matmul = profile.filter((p) => p.kernel.startsWith('matmul.') && !p.kernel.startsWith('matmul.packB')).reduce((s, p) => s + p.totalMs, 0)
    profiles[mode] = { kernelMs: total, packMs: pack, packShare: pack / total, matmulMs: matmul, dispatches: profile.reduce((s, p) => s + p.count, 0) }
    console.log(`profile ${mode}: kernel time ${total.toFixed(0)} ms, packing ${pack.toFixed(0)} ms (${((100 * pack) / total).toFixed(1)}%), matmul kernels ${matmul.toFixed(0)} ms`)
  }
}

const TRAIN_BATCH = 16
const opt = new optim.AdamW(prior.namedParameters(), { lr: 1e-4 })
const text = device.tensor(ids(TRAIN_BATCH * T, CONFIG.textVocabSize, 1), [TRAIN_BATCH, T])
const image = device.tensor(ids(TRAIN_BATCH * HW, CONFIG.imageVocabSize, 2), [TRAIN_BATCH, HW])
async function trainStep(mode) {
  device.packCacheBytes = MODES[mode]
  device.resetKernelStats()
  const start = performance.now()
  await trainingStep(prior, opt, text, image)
  const seconds = (performance.now() - start) / 1000
  const { packCache } = device.kernelStats()
  return { seconds, tokensPerSecond: (TRAIN_BATCH * (T + HW)) / seconds, packHits: packCache.hits, packMisses: packCache.misses, bytesAfterStep: device.memory().derived.bytes }
}
const training = { repack: [], cached: [] }
if (Number(args['train-rounds']) > 0) {
  for (const mode of Object.keys(MODES)) await trainStep(mode) // warm-up
  for (let round = 0; round < Number(args['train-rounds']); round++) {
    for (const mode of round % 2 === 0 ? ['repack', 'cached'] : ['cached', 'repack']) {
      const r = await trainStep(mode)
      training[mode].push(r)
      console.log(`train round ${round} ${mode.padEnd(6)} ${r.tokensPerSecond.toFixed(1)} tokens/s (${r.seconds.toFixed(2)} s), pack cache ${r.packHits} hits / ${r.packMisses} misses, ${(r.bytesAfterStep / 2 ** 20).toFixed(1)} MiB held after the step`)
    }
  }
}
for (const t of [text, image]) t.dispose()
device.packCacheBytes = CAP

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  adapter: device.adapter.description || device.adapter.architecture,
  config: CONFIG,
  batch: GEN_BATCH,
  autotuned: !args['no-autotune'],
  summary,
  cachedOverRepackPerRound: ratios,
  runs,
  profiles,
  training: {
    batch: TRAIN_BATCH,
    medianTokensPerSecond: Object.fromEntries(Object.entries(training).map(([mode, rs]) => [mode, rs.length ? median(rs.map((r) => r.tokensPerSecond)) : null])),
    runs: training,
  },
}
prior.dispose()
device.destroy()
const out = new URL(args.out, import.meta.url)
await mkdir(new URL('.', out), { recursive: true })
await writeFile(out, JSON.stringify(result, null, 2) + '\n')
console.log(`median image tokens/s: repack ${summary.repack.medianTokensPerSecond.toFixed(1)}, cached ${summary.cached.medianTokensPerSecond.toFixed(1)}; cached/repack per round ${ratios.map((r) => r.toFixed(2)).join(' ')}`)
