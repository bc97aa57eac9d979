// Where a dVAE training step spends its device time, kernel by kernel (tensor-core's
// profileKernels): the table to read before optimising a kernel. Writes
// bench/results/dvae-step-profile.{json,md}.
//
//   node bench/profile-step.mjs [--config '{"nHid":64,"nInit":128}'] [--batch 16] [--backend webgpu|cpu]
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Device, profileKernels } from '@tessera/tensor-core'
import { makeShapesDataset } from '@tessera/datasets'
import { DiscreteVAE, DvaeTrainer, preset, resolveConfig } from '@tessera/dvae'

const { values: args } = parseArgs({
  options: { config: { type: 'string', default: '{}' }, batch: { type: 'string', default: '16' }, backend: { type: 'string', default: 'webgpu' }, top: { type: 'string', default: '25' } },
})
const here = fileURLToPath(new URL('.', import.meta.url))
const config = resolveConfig({ ...preset('emoji-32'), ...JSON.parse(args.config) })
const batch = Number(args.batch)
const device = await Device.create({ backend: args.backend, seed: 0 })
const model = new DiscreteVAE(device, config, { seed: 0 })
const trainer = new DvaeTrainer(model, makeShapesDataset({ count: 4 * batch, imageSize: config.imageSize, seed: 0 }), { steps: 100, batchSize: batch, loss: 'mse', klWeight: 0.03, gradClip: 1 })
// As `tessera train dvae`: a first step compiles pipelines and tunes the matmul variants.
await trainer.run({ until: 1, autotune: args.backend === 'webgpu' })
const stepMs = []
for (let i = 0; i < 3; i++) stepMs.push((await trainer.trainStep()).ms)
const profiles = await profileKernels(device, async () => void (await trainer.trainStep()))

const flops = (p) => (p.m && p.n && p.k ? 2 * p.batch * p.m * p.n * p.k : 0)
const total = profiles.reduce((s, p) => s + p.totalMs, 0)
const byKernel = new Map()
for (const p of profiles) byKernel.set(p.kernel, (byKernel.get(p.kernel) ?? 0) + p.totalMs)
const describe = (p) => {
  const q = p.params
  if (q.m !== undefined) {
    const shape = `m ${q.m} n ${q.n} k ${q.k} batch ${q.batch}${q.transA ? ' Aᵀ' : ''}${q.transB ? ' Bᵀ' : ''}${q.foldBatch ? ' folded' : ''}${q.im2col ? ` im2col ${q.im2col.kh}×${q.im2col.kw}` : ''}`
    // Packing B does no arithmetic: its row names the product it packs for.
    return p.kernel.startsWith('matmul.packB') ? `packs B of ${shape}` : `${shape}, ${(flops(q) / p.ms / 1e6).toFixed(2)} GFLOP/s`
  }
  if (q.kh !== undefined) return `${q.cout !== undefined ? `cout ${q.cout} ` : ''}cin ${q.cin} ${q.kh}×${q.kw} on ${q.h}×${q.w}, batch ${q.batch}`
  return `${p.key}${['outer', 'n', 'rows', 'size', 'planes'].filter((f) => q[f] !== undefined).map((f) => `, ${f} ${q[f]}`).join('')}`
}
const report = {
  date: new Date().toISOString(),
  adapter: device.adapter.description,
  config,
  batch,
  stepMs,
  dispatchesPerStep: profiles.reduce((s, p) => s + p.count, 0),
  kernelMs: total,
  loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
  byKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1])),
  dispatches: profiles,
}
const md = [
  `# dVAE training step, kernel by kernel (${report.date})`,
  '',
  `${args.backend} (${report.adapter}); batch ${batch} of ${config.imageSize}² images, nHid ${config.nHid}, ${config.vocabSize} codes. Steps took ${stepMs.map((t) => t.toFixed(0)).join(', ')} ms; ${report.dispatchesPerStep} dispatches summing to ${total.toFixed(0)} ms replayed one kind at a time. Load average ${report.loadAverage.join(' ')}.`,
  '',
  '| kernel | ms per step | share |',
  '| --- | --- | --- |',
  ...[...byKernel].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `| ${k} | ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(0)} % |`),
  '',
  `Top ${args.top} dispatches:`,
  '',
  '| ms per step | count | ms each | kernel | what |',
  '| --- | --- | --- | --- | --- |',
  ...profiles.slice(0, Number(args.top)).map((p) => `| ${p.totalMs.toFixed(1)} | ${p.count} | ${p.ms.toFixed(2)} | ${p.kernel} | ${describe(p)} |`),
  '',
].join('\n')
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/dvae-step-profile.json`, JSON.stringify(report, null, 2) + '\n')
await writeFile(`${here}results/dvae-step-profile.md`, md)
console.log(md)
trainer.dispose()
model.dispose()
device.destroy()
