#!/usr/bin/env node
// A/B of DvaeTrainer.run keeping one step in flight (the host records step s+1 while the adapter
// runs step s) against steps run one at a time (`trainStep`, which waits for each step's
// metrics before recording the next), on the same trainer, alternating which goes first.
// Writes bench/results/step-in-flight.{json,md}. Run after `pnpm build`:
//
//   node bench/step-in-flight.mjs [--rounds 3] [--steps 8] [--backend webgpu] [--cases JSON]
//
// --cases replaces the models: '[{"name":"B","config":{"nHid":64,"nInit":128,"nBlkPerGroup":2,"vocabSize":2048},"batch":256}]'
// (configs over the emoji-32 preset), e.g. GPU-sized batches.
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Device } from '@tessera/tensor-core'
import { makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, preset, resolveConfig } from '@tessera/dvae'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '8' }, backend: { type: 'string', default: 'webgpu' }, cases: { type: 'string' } },
})
const CASES = args.cases ? JSON.parse(args.cases) : [
  { name: 'emoji-32', config: {}, batch: 16 },
  { name: 'nHid 64, 2 blocks, 2,048 codes', config: { nHid: 64, nInit: 128, nBlkPerGroup: 2, vocabSize: 2048 }, batch: 2 },
]
const rounds = Number(args.rounds)
const steps = Number(args.steps)

/** Wall and process-CPU ms per step over `steps` steps of the given mode. */
async function measure(trainer, mode) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (mode === 'in flight') await trainer.run({ until: trainer.step + steps })
  else for (let i = 0; i < steps; i++) await trainer.trainStep()
  const cpu = process.cpuUsage(cpu0)
  return { stepMs: (performance.now() - t0) / steps, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps }
}

const loadBefore = loadavg()
const results = []
for (const c of CASES) {
  const resolved = resolveConfig({ ...preset('emoji-32'), ...c.config })
  const device = await Device.create({ backend: args.backend, seed: 0 })
  const model = new DiscreteVAE(device, resolved, { seed: 0 })
  const data = makeShapesDataset({ count: 4 * c.batch, imageSize: resolved.imageSize, seed: 0 })
  const trainer = new DvaeTrainer(model, data, { steps: 100_000, batchSize: c.batch, loss: 'mse', klWeight: 0.03, gradClip: 1 })
  await trainer.run({ until: 2 }) // warm-up: pipelines compiled
  const runs = { 'one at a time': [], 'in flight': [] }
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['in flight', 'one at a time'] : ['one at a time', 'in flight']) runs[mode].push(await measure(trainer, mode))
  }
  const mean = (xs, f) => xs.reduce((s, x) => s + x[f], 0) / xs.length
  const row = { case: c.name, batch: c.batch, adapter: device.adapter.description ?? device.kind, runs }
  for (const mode of Object.keys(runs)) row[mode] = { stepMs: mean(runs[mode], 'stepMs'), cpuMsPerStep: mean(runs[mode], 'cpuMsPerStep') }
  row.speedup = row['one at a time'].stepMs / row['in flight'].stepMs
  results.push(row)
  console.log(`${c.name}: one at a time ${row['one at a time'].stepMs.toFixed(0)} ms, in flight ${row['in flight'].stepMs.toFixed(0)} ms per step (${row.speedup.toFixed(2)}×)`)
  trainer.dispose()
  model.dispose()
  device.destroy()
}

const report = { date: new Date().toISOString(), backend: args.backend, rounds, steps, loadAverage: { before: loadBefore, after: loadavg() }, results }
const fmt = (x) => x.toFixed(0)
const md = [
  `# Training steps one at a time vs one step in flight (${report.date})`,
  '',
  `dVAE training steps on ${results[0].adapter}; ${rounds} rounds of ${steps} steps per mode on the same trainer, alternating which mode runs first. Load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ${report.loadAverage.after.map((v) => v.toFixed(2)).join(' ')} after.`,
  '',
  '| model | batch | one at a time: ms per step | in flight: ms per step | speed-up | one at a time: process CPU ms per step | in flight: process CPU ms per step |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.case} | ${r.batch} | ${fmt(r['one at a time'].stepMs)} | ${fmt(r['in flight'].stepMs)} | ${r.speedup.toFixed(2)}× | ${fmt(r['one at a time'].cpuMsPerStep)} | ${fmt(r['in flight'].cpuMsPerStep)} |`),
  '',
]
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/step-in-flight.json`, JSON.stringify(report, null, 1))
await writeFile(`${here}results/step-in-flight.md`, md.join('\n'))
console.log(md.join('\n'))
