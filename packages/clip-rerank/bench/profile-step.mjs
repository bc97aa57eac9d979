// Where a CLIP training step spends its device time, kernel by kernel (tensor-core's profileKernels).
//   node bench/profile-step.mjs [--config JSON] [--batch 64] [--backend webgpu|cpu] [--autotune yes|no]
import { parseArgs } from 'node:util'
import { Device, profileKernels } from '@tessera/tensor-core'
import { makeShapesDataset } from '@tessera/datasets'
import { CLIP, ClipTrainer, preset, trainCaptionTokenizer } from '@tessera/clip-rerank'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({
  options: { config: { type: 'string', default: '{}' }, batch: { type: 'string', default: '64' }, backend: { type: 'string', default: 'webgpu' }, top: { type: 'string', default: '30' }, autotune: { type: 'string', default: 'no' } },
})
const config = { ...preset('emoji-32'), ...JSON.parse(args.config) }
const batch = Number(args.batch)
const device = await Device.create({ backend: args.backend, seed: 0 })
const data = makeShapesDataset({ count: 4 * batch, imageSize: config.imageResolution, seed: 0 })
const tokenizer = await trainCaptionTokenizer(data.captions, { vocabSize: 600 })
const model = new CLIP(device, { ...config, vocabSize: tokenizer.vocabSize }, { seed: 0 })
const trainer = new ClipTrainer(model, tokenizer, data, { steps: 100, batchSize: batch })
await trainer.run({ until: 1, autotune: args.autotune === 'yes' && args.backend === 'webgpu' })
const stepMs = []
for (let i = 0; i < 2; i++) stepMs.push((await trainer.trainStep()).ms)
console.log(`step ms ${stepMs.map((m) => m.toFixed(0)).join(', ')}`)
const profiles = await profileKernels(device, async () => void (await trainer.trainStep()), { repeats: 3 })
const total = profiles.reduce((s, p) => s + p.totalMs, 0)
const byKernel = new Map()
for (const p of profiles) byKernel.set(p.kernel, (byKernel.get(p.kernel) ?? 0) + p.totalMs)
console.log(`kernel time ${total.toFixed(0)} ms in ${profiles.reduce((s, p) => s + p.count, 0)} dispatches`)
for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${k.padEnd(28)} ${ms.toFixed(0)} ms`)
for (const p of profiles.slice(0, Number(args.top))) console.log(`${p.kernel} ×${p.count} ${p.totalMs.toFixed(0)} ms  ${JSON.stringify(p.params).slice(0, 160)}`)
trainer.dispose()
device.destroy()
