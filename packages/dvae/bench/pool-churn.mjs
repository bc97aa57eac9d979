#!/usr/bin/env node
// GPU resources created per dVAE training step once warm: with tensor-core's resource pools
// holding a loop's working set (the metric readbacks' staging buffers included), steady-state
// steps create none. Model B (nHid 64, 2 blocks, 2,048 codes) at the given batches; writes
// bench/results/pool-churn.{json,md}. Run after `pnpm build`:
//
//   node bench/pool-churn.mjs [--batches 16,32] [--steps 3]
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Device } from '@tessera/tensor-core'
import { makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, preset, resolveConfig } from '@tessera/dvae'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const { values: args } = parseArgs({ options: { batches: { type: 'string', default: '16,32' }, steps: { type: 'string', default: '3' } } })
const config = resolveConfig({ ...preset('emoji-32'), nHid: 64, nInit: 128, nBlkPerGroup: 2, vocabSize: 2048 })
const MiB = 2 ** 20

const results = []
for (const batch of args.batches.split(',').map(Number)) {
  const device = await Device.create({ backend: 'webgpu', seed: 0 })
  // Count what the backend asks Dawn to create (the GPUDevice is the backend's own).
  const gpu = device.backend.device
  const counts = { buffers: 0, bufferBytes: 0, textures: 0 }
  const createBuffer = gpu.createBuffer.bind(gpu)
  const createTexture = gpu.createTexture.bind(gpu)
  gpu.createBuffer = (d) => (counts.buffers++, (counts.bufferBytes += d.size), createBuffer(d))
  gpu.createTexture = (d) => (counts.textures++, createTexture(d))
  const model = new DiscreteVAE(device, config, { seed: 0 })
  const trainer = new DvaeTrainer(model, makeShapesDataset({ count: 2 * batch, imageSize: 32, seed: 0 }), { steps: 100, batchSize: batch, loss: 'mse', klWeight: 0.03, gradClip: 1 })
  const steps = []
  for (let i = 0; i < Number(args.steps); i++) {
    Object.assign(counts, { buffers: 0, bufferBytes: 0, textures: 0 })
    const t0 = performance.now()
    await trainer.run({ until: trainer.step + 1 })
    const m = device.memory()
    steps.push({ seconds: (performance.now() - t0) / 1000, ...counts, bufferMiB: counts.bufferBytes / MiB, inUseMiB: m.inUseBytes / MiB, pooledMiB: m.pooledBytes / MiB })
  }
  results.push({ batch, adapter: device.adapter.description, steps })
  console.log(`batch ${batch}: ${steps.map((s) => `${s.buffers} buffers (${s.bufferMiB.toFixed(0)} MiB), ${s.textures} textures, ${s.seconds.toFixed(1)} s`).join(' | ')}`)
  trainer.dispose()
  model.dispose()
  device.destroy()
}

const report = { date: new Date().toISOString(), model: config, results }
const md = [
  `# GPU resources created per training step (${report.date})`,
  '',
  `Model B (nHid 64, 2 blocks, 2,048 codes) on ${results[0].adapter}; each step a \`run\` of one step from a fresh trainer, the first compiling pipelines and filling the pools.`,
  '',
  '| batch | step | buffers created | MiB | textures created | seconds | buffer pool parked MiB |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) => r.steps.map((s, i) => `| ${r.batch} | ${i} | ${s.buffers} | ${s.bufferMiB.toFixed(0)} | ${s.textures} | ${s.seconds.toFixed(1)} | ${s.pooledMiB.toFixed(0)} |`)),
  '',
]
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/pool-churn.json`, JSON.stringify(report, null, 1))
await writeFile(`${here}results/pool-churn.md`, md.join('\n'))
console.log(md.join('\n'))
