#!/usr/bin/env node
// Does the prior know which image goes with a caption? For each of --captions captions, the rank
// of its true image among itself and --candidates − 1 other images of the same split, by the
// prior's image loss (mean nats per image token; rank 1 = the true image is likeliest; chance is
// (candidates + 1) / 2). Held-in (training) and held-out captions.
//   node packages/prior/scripts/eval-rank.mjs --model DIR --data packages/prior/.runs/emoji-data [--captions 200 --candidates 200]
import { Mulberry32 } from '@tessera/datasets'
import { Device } from '@tessera/tensor-core'
import { parseArgs } from 'node:util'
import { captionIds } from '../dist/index.js'
import { loadRun } from './load-run.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: 'packages/prior/.runs/emoji-data' },
    captions: { type: 'string', default: '200' },
    candidates: { type: 'string', default: '200' },
    batch: { type: 'string', default: '100' },
    seed: { type: 'string', default: '0' },
    splits: { type: 'string', default: 'train,heldout' },
  },
})
const device = await Device.create({ backend: 'webgpu' })
const { prior, tokenizer, train, heldOut } = await loadRun(device, args.model, args.data)
const { textLength: T, padId } = prior.config
const HW = prior.imageLength
const nCaptions = Number(args.captions)
const nCandidates = Number(args.candidates)
const batch = Number(args.batch)

async function ranks(data, label) {
  const rng = new Mulberry32(Number(args.seed))
  const pick = (n) => Math.floor(rng.next() * n)
  const out = []
  const started = performance.now()
  for (let c = 0; c < Math.min(nCaptions, data.length); c++) {
    const truth = pick(data.length)
    const others = new Set()
    while (others.size < Math.min(nCandidates - 1, data.length - 1)) {
      const j = pick(data.length)
      // A different emoji image can carry the same caption (the other vendor's drawing): not a negative.
      if (j !== truth && data.captions[j] !== data.captions[truth]) others.add(j)
    }
    const candidates = [truth, ...others]
    const ids = captionIds(tokenizer, data.captions[truth], T, padId, { truncate: true })
    const losses = []
    for (let s = 0; s < candidates.length; s += batch) {
      const part = candidates.slice(s, s + batch)
      const text = new Int32Array(part.length * T)
      const image = new Int32Array(part.length * HW)
      part.forEach((j, k) => {
        text.set(ids, k * T)
        image.set(data.imageTokens.subarray(j * HW, (j + 1) * HW), k * HW)
      })
      const t = prior.imageLossPerPair(device.tensor(text, [part.length, T]), device.tensor(image, [part.length, HW]))
      losses.push(...(await t.read()))
      t.dispose()
    }
    out.push(1 + losses.filter((l) => l < losses[0]).length)
    if ((c + 1) % 20 === 0) console.log(`${label}: ${c + 1} captions, median rank so far ${median(out)} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  return out
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const result = {}
for (const split of args.splits.split(',')) {
  const r = await ranks(split === 'train' ? train : heldOut, split)
  result[split === 'train' ? 'heldIn' : 'heldOut'] = {
    captions: r.length,
    candidates: nCandidates,
    medianRank: median(r),
    meanRank: r.reduce((a, b) => a + b, 0) / r.length,
    top1: r.filter((x) => x === 1).length / r.length,
    top5: r.filter((x) => x <= 5).length / r.length,
    chanceMedian: (nCandidates + 1) / 2,
  }
}
console.log(JSON.stringify(result, null, 2))
prior.dispose()
device.destroy()
