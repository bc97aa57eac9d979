#!/usr/bin/env node
// Where a prior training step's kernel time goes (tensor-core's profileKernels), on the bench
// model of bench-model.mjs (4 layers, width 256, 16 text + 64 image tokens).
//   node bench/profile-step.mjs [--batch 32] [--width 256] [--top 25]
import { Device, optim, profileKernels } from '@tessera/tensor-core'
import { parseArgs } from 'node:util'
import { Prior } from '../dist/index.js'
import { BENCH_CONFIG, ids, trainingStep } from './bench-model.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({ options: { batch: { type: 'string', default: '32' }, top: { type: 'string', default: '25' }, width: { type: 'string', default: '256' } } })
const N = Number(args.batch)
const config = { ...BENCH_CONFIG, width: Number(args.width) }
const device = await Device.create({ backend: 'webgpu' })
const prior = new Prior(device, config)
const opt = new optim.AdamW(prior.namedParameters(), { lr: 1e-4 })
const text = device.tensor(ids(N * config.textLength, config.textVocabSize, 1), [N, config.textLength])
const image = device.tensor(ids(N * 64, config.imageVocabSize, 2), [N, 64])
const step = () => trainingStep(prior, opt, text, image)
await step()
const t = performance.now()
await step()
console.log(`one step at batch ${N}: ${(performance.now() - t).toFixed(0)} ms wall`)
const profile = await profileKernels(device, step, { repeats: 3 })
const total = profile.reduce((s, p) => s + p.totalMs, 0)
console.log(`kernel time ${total.toFixed(0)} ms in ${profile.reduce((s, p) => s + p.count, 0)} dispatches`)
for (const p of profile.slice(0, Number(args.top))) console.log(`${p.totalMs.toFixed(1).padStart(8)} ms ${String(p.count).padStart(4)}× ${p.kernel} ${p.key} ${JSON.stringify(p.params).slice(0, 150)}`)
