#!/usr/bin/env node
// A/B of tensor-core's paced Dawn event polling (backend/dawn-polling.ts) against Dawn's own
// setImmediate busy loop, on dVAE training steps: each round runs both, in child processes
// (the pacing is process-wide), alternating which goes first. Writes
// bench/results/dawn-polling.{json,md}. Run after `pnpm build`:
//
//   node bench/dawn-polling.mjs [--rounds 3] [--steps 8]
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '8' }, child: { type: 'string' }, config: { type: 'string' }, batch: { type: 'string' } },
})
const CASES = [
  { name: 'emoji-32', config: {}, batch: 16 },
  { name: 'nHid 64, 2 blocks, 2,048 codes', config: { nHid: 64, nInit: 128, nBlkPerGroup: 2, vocabSize: 2048 }, batch: 2 },
]

/** In a child: mean wall and process-CPU ms per training step, after two warm-up steps. */
async function measure(mode, config, batch, steps) {
  // Marking setImmediate as paced already keeps the backend from pacing it: Dawn's own loop.
  if (mode === 'busy') globalThis.setImmediate[Symbol.for('tessera.tensor-core.pacedSetImmediate')] = true
  const { Device } = await import('@tessera/tensor-core')
  const { makeShapesDataset } = await import('@tessera/datasets')
  const { DiscreteVAE, DvaeTrainer, preset, resolveConfig } = await import('@tessera/dvae')
  const resolved = resolveConfig({ ...preset('emoji-32'), ...config })
  const device = await Device.create({ backend: 'webgpu', seed: 0 })
  const model = new DiscreteVAE(device, resolved, { seed: 0 })
  const data = makeShapesDataset({ count: 4 * batch, imageSize: resolved.imageSize, seed: 0 })
  const trainer = new DvaeTrainer(model, data, { steps: 100, batchSize: batch, loss: 'mse', klWeight: 0.03, gradClip: 1 })
  for (let i = 0; i < 2; i++) await trainer.trainStep()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) await trainer.trainStep()
  const cpu = process.cpuUsage(cpu0)
  return { stepMs: (performance.now() - t0) / steps, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps, adapter: device.adapter.description }
}

if (args.child) {
  console.log(JSON.stringify(await measure(args.child, JSON.parse(args.config), Number(args.batch), Number(args.steps))))
  process.exit(0)
}

const rounds = Number(args.rounds)
const loadBefore = loadavg()
const results = []
for (const c of CASES) {
  const runs = { busy: [], paced: [] }
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['paced', 'busy'] : ['busy', 'paced']) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, '--config', JSON.stringify(c.config), '--batch', String(c.batch), '--steps', args.steps], { encoding: 'utf8' })
      if (child.status !== 0) throw new Error(`${mode} run failed: ${child.stderr}`)
      runs[mode].push(JSON.parse(child.stdout.trim().split('\n').pop()))
    }
  }
  const mean = (xs, f) => xs.reduce((s, x) => s + x[f], 0) / xs.length
  const row = { case: c.name, batch: c.batch, adapter: runs.paced[0].adapter, runs }
  for (const mode of ['busy', 'paced']) row[mode] = { stepMs: mean(runs[mode], 'stepMs'), cpuMsPerStep: mean(runs[mode], 'cpuMsPerStep') }
  row.speedup = row.busy.stepMs / row.paced.stepMs
  results.push(row)
  console.log(`${c.name}: busy ${row.busy.stepMs.toFixed(0)} ms, paced ${row.paced.stepMs.toFixed(0)} ms per step (${row.speedup.toFixed(2)}×)`)
}

const report = { date: new Date().toISOString(), rounds, steps: Number(args.steps), loadAverage: { before: loadBefore, after: loadavg() }, results }
const fmt = (x) => x.toFixed(0)
const md = [
  `# Dawn event polling: Dawn's busy loop vs tensor-core's paced loop (${report.date})`,
  '',
  `dVAE training steps on ${results[0].adapter}; ${rounds} rounds of ${report.steps} steps per mode, each in its own process, alternating which mode runs first. Load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ${report.loadAverage.after.map((v) => v.toFixed(2)).join(' ')} after.`,
  '',
  '| model | batch | busy: ms per step | paced: ms per step | speed-up | busy: process CPU ms per step | paced: process CPU ms per step |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.case} | ${r.batch} | ${fmt(r.busy.stepMs)} | ${fmt(r.paced.stepMs)} | ${r.speedup.toFixed(2)}× | ${fmt(r.busy.cpuMsPerStep)} | ${fmt(r.paced.cpuMsPerStep)} |`),
  '',
]
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/dawn-polling.json`, JSON.stringify(report, null, 1))
await writeFile(`${here}results/dawn-polling.md`, md.join('\n'))
console.log(md.join('\n'))
