#!/usr/bin/env node
// Where a prior training step's kernel time goes (tensor-core's profileKernels), on the issue's
// bench model: 4 layers, width 256, 16 text + 64 image tokens.   node bench/profile-step.mjs [--batch 32]
import { Device, optim, profileKernels, tidy } from '@tessera/tensor-core'
import { parseArgs } from 'node:util'
import { Prior } from '../dist/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({ options: { batch: { type: 'string', default: '32' }, top: { type: 'string', default: '25' }, width: { type: 'string', default: '256' } } })
const N = Number(args.batch)
const device = await Device.create({ backend: 'webgpu' })
const prior = new Prior(device, { textVocabSize: 1024, imageVocabSize: 512, textLength: 16, gridSize: [8, 8], width: Number(args.width), heads: 4, layers: 4, masks: 'dalle' })
const opt = new optim.AdamW(prior.namedParameters(), { lr: 1e-4 })
const ids = (n, v) => Int32Array.from({ length: n }, (_, i) => (i * 7919) % v)
const step = async () => {
  const loss = tidy(() => {
    const { loss } = prior.losses(device.tensor(ids(N * 16, 1024), [N, 16]), device.tensor(ids(N * 64, 512), [N, 64]))
    loss.backward()
    opt.step()
    opt.zeroGrad()
    return loss
  })
  await loss.read()
  loss.dispose()
}
await step()
let t = performance.now()
await step()
console.log(`one step at batch ${N}: ${(performance.now() - t).toFixed(0)} ms wall`)
const profile = await profileKernels(device, step, { repeats: 3 })
const total = profile.reduce((s, p) => s + p.totalMs, 0)
console.log(`kernel time ${total.toFixed(0)} ms in ${profile.reduce((s, p) => s + p.count, 0)} dispatches`)
for (const p of profile.slice(0, Number(args.top))) console.log(`${p.totalMs.toFixed(1).padStart(8)} ms ${String(p.count).padStart(4)}× ${p.kernel} ${p.key} ${JSON.stringify(p.params).slice(0, 150)}`)
