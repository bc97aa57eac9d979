#!/usr/bin/env node
// Encode+decode throughput of the emoji preset and a mid-size config (and of emoji-32 with searched
// tokens, and its training steps): Tessera on WebGPU (Dawn;
// lavapipe on CI machines) and on the CPU reference backend, beside PyTorch CPU (2 threads)
// running the same layout, in the same run. Writes bench/results/dvae-throughput.{json,md}.
// Run after `pnpm build`:  pnpm bench   (or node bench/run.mjs)
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Device, tidy } from '@tessera/tensor-core'
import { gatherBatch, makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, preset } from '@tessera/dvae'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const ITERATIONS = 3
const STEPS_PER_RUN = 4 // training: steps per timed iteration
const CASES = [
  { name: 'emoji-32', config: preset('emoji-32'), batch: 32, mode: 'encode+decode' },
  { name: 'mid', config: preset('mid'), batch: 4, mode: 'encode+decode' },
  { name: 'emoji-32', config: preset('emoji-32'), batch: 8, mode: 'search' },
  { name: 'emoji-32', config: preset('emoji-32'), batch: 16, mode: 'train' },
]

/** Best-of-N images/s of encode → tokens (argmax, or searched in mode search) → decode → images read back to the host. */
async function tesseraThroughput(backend, config, batch, mode) {
  const device = await Device.create({ backend })
  const model = new DiscreteVAE(device, config)
  const batchImages = gatherBatch(makeShapesDataset({ count: batch, imageSize: config.imageSize, seed: 0 }), [...Array(batch).keys()])
  const images = device.tensor(batchImages.images, batchImages.shape)
  const once = async () => {
    const out = tidy(() => model.decode(model.encode(images, { search: mode === 'search' })))
    await out.read()
    out.dispose()
  }
  await once() // warm-up: pipeline compilation
  const times = []
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now()
    await once()
    times.push((performance.now() - start) / 1000)
  }
  const adapter = device.adapter.description ?? device.kind
  images.dispose()
  model.dispose()
  device.destroy()
  return { imagesPerSecond: batch / Math.min(...times), secondsPerIteration: times, adapter }
}

/**
 * Best-of-N images/s of DvaeTrainer steps (MSE recipe, grad clip 1 as `tessera train dvae` and the
 * PyTorch peer) on synthetic shapes. Each iteration is a `run` of STEPS_PER_RUN steps, timed
 * whole: `run` records a step while the adapter runs the one before, which a single step's time
 * would not show.
 */
async function tesseraTrainThroughput(backend, config, batch) {
  const device = await Device.create({ backend, seed: 0 })
  const model = new DiscreteVAE(device, config, { seed: 0 })
  const data = makeShapesDataset({ count: 4 * batch, imageSize: config.imageSize, seed: 0 })
  const trainer = new DvaeTrainer(model, data, { steps: 100, batchSize: batch, loss: 'mse', klWeight: 0.1, gradClip: 1 })
  // Warm-up step: compiles pipelines; on GPU adapters it also tunes the matmul variants, as `tessera train dvae` does.
  await trainer.run({ until: 1, autotune: backend === 'webgpu' })
  const times = []
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now()
    await trainer.run({ until: trainer.step + STEPS_PER_RUN })
    times.push((performance.now() - started) / 1000 / STEPS_PER_RUN)
  }
  const adapter = device.adapter.description ?? device.kind
  trainer.dispose()
  model.dispose()
  device.destroy()
  return { imagesPerSecond: batch / Math.min(...times), secondsPerIteration: times, adapter }
}

// As tensor-core's benches start their PyTorch peer: TORCH_PYTHON picks the interpreter, and
// OpenBLAS must not start its own threads under torch's 2 (nested, they oversubscribe 2 cores).
const torchPython = process.env.TORCH_PYTHON ?? '/usr/bin/python3'
const torchEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' }

function torchThroughput(config, batch, mode) {
  const run = spawnSync(torchPython, [`${here}torch_bench.py`, JSON.stringify({ config, batch, iterations: ITERATIONS, mode })], { encoding: 'utf8', env: torchEnv })
  if (run.status !== 0) return { error: (run.stderr || 'python failed').trim().split('\n').pop() }
  return JSON.parse(run.stdout.trim().split('\n').pop())
}

const results = []
for (const c of CASES) {
  const measure = c.mode === 'train' ? tesseraTrainThroughput : tesseraThroughput
  const webgpu = await measure('webgpu', c.config, c.batch, c.mode)
  const cpu = await measure('cpu', c.config, c.batch, c.mode)
  const torch = torchThroughput(c.config, c.batch, c.mode)
  const row = { case: c.name, mode: c.mode, config: c.config, batch: c.batch, webgpu, cpu, torch }
  if (torch.imagesPerSecond) {
    row.webgpuOverTorch = webgpu.imagesPerSecond / torch.imagesPerSecond
    row.cpuOverTorch = cpu.imagesPerSecond / torch.imagesPerSecond
  }
  results.push(row)
  console.log(`${c.name} ${c.mode}: webgpu ${webgpu.imagesPerSecond.toFixed(2)} img/s, cpu ${cpu.imagesPerSecond.toFixed(2)} img/s, torch ${torch.imagesPerSecond?.toFixed(2) ?? torch.error} img/s`)
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtEnd: loadavg().map((v) => Number(v.toFixed(2))), node: process.version }
const report = { date: new Date().toISOString(), iterations: ITERATIONS, measure: `best-of-N images/s of encode (argmax tokens; mode search: searched, 8 candidates, 2 passes) + decode, read back; or of training steps (mode train: Tessera runs ${STEPS_PER_RUN} steps per iteration, PyTorch one)`, machine, results }
const fmt = (v) => (v === undefined ? 'n/a' : v.toFixed(2))
const md = [
  `# dVAE throughput: encode+decode and training steps (${report.date})`,
  '',
  `Best of ${ITERATIONS} after a warm-up (training: each iteration a \`run\` of ${STEPS_PER_RUN} steps, so a step records while the one before runs; PyTorch: one step; search: both sides search the tokens, 8 candidates, 2 passes); images/s; ${machine.cpus} cores (${machine.cpuModel}), load average at the end ${machine.loadAverageAtEnd.join(' ')}. PyTorch runs the same layout on the CPU with 2 threads.`,
  '',
  '| case | work | batch | image | tokens | Tessera WebGPU | Tessera CPU backend | PyTorch CPU | WebGPU / PyTorch | CPU backend / PyTorch |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => {
    const grid = r.config.imageSize / 2 ** (r.config.groupCount - 1)
    return `| ${r.case} | ${r.mode} | ${r.batch} | ${r.config.imageSize}² | ${grid}² of ${r.config.vocabSize} | ${fmt(r.webgpu.imagesPerSecond)} | ${fmt(r.cpu.imagesPerSecond)} | ${fmt(r.torch.imagesPerSecond)} | ${fmt(r.webgpuOverTorch)} | ${fmt(r.cpuOverTorch)} |`
  }),
  '',
  `WebGPU adapter: ${results[0]?.webgpu.adapter}.`,
  '',
].join('\n')
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/dvae-throughput.json`, JSON.stringify(report, null, 2) + '\n')
await writeFile(`${here}results/dvae-throughput.md`, md)
console.log(md)
