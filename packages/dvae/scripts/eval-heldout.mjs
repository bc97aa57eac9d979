#!/usr/bin/env node
// Held-out reconstruction of a saved dVAE: PSNR and codebook perplexity with argmax tokens and,
// with --search, with decoder-searched tokens (EncodeOptions.search). Run after `pnpm build`:
//   node scripts/eval-heldout.mjs --model ../../models/dvae-emoji-32 --search --passes 2
import { join } from 'node:path'
import { loadEmojiDataset, loadPackedDataset } from '@tessera/datasets'
import { evaluateReconstruction, formatEval } from '@tessera/dvae'
import { openDvaeScript } from './open-model.mjs'

const { args, device, model } = await openDvaeScript({
  usage: 'node scripts/eval-heldout.mjs [--model DIR] [--backend webgpu|cpu] [--packed DIR (pack-emoji.mjs output, where the emoji packages are not installed)] [--count N (default: all)] [--batch N] [--search [--candidates K] [--passes P]]',
  options: {
    packed: { type: 'string' },
    count: { type: 'string' },
    batch: { type: 'string', default: '32' },
    search: { type: 'boolean', default: false },
    candidates: { type: 'string', default: '8' },
    passes: { type: 'string', default: '2' },
  },
})
const heldOut = args.packed ? await loadPackedDataset(join(args.packed, 'emoji-heldout')) : await loadEmojiDataset({ imageSize: model.config.imageSize, split: 'heldout' })
const common = { count: args.count === undefined ? undefined : Number(args.count), batchSize: Number(args.batch) }
const runs = [['argmax', undefined]]
if (args.search) runs.push([`search (${args.candidates} candidates, ${args.passes} passes)`, { candidates: Number(args.candidates), passes: Number(args.passes) }])
for (const [name, search] of runs) {
  const started = performance.now()
  const metrics = await evaluateReconstruction(model, heldOut, { ...common, search })
  const seconds = (performance.now() - started) / 1000
  console.log(`${name}: ${formatEval(metrics)} (${seconds.toFixed(1)} s, ${(metrics.images / seconds).toFixed(1)} img/s)`)
}
model.dispose()
device.destroy()
