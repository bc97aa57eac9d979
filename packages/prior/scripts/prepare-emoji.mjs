#!/usr/bin/env node
// Encodes the emoji set once for prior training: captions (emojibase labels) and the image tokens
// of a shipped dVAE (or one in a directory), both vendors, train and held-out splits (by emoji), plus a BPE tokenizer trained
// on the training captions. Writes OUT/{train,heldout}.tokens and OUT/tokenizer.json.
//   node packages/prior/scripts/prepare-emoji.mjs [--out packages/prior/.runs/emoji-data] [--dvae dvae-emoji-32|DIR] [--vocab 1024]
import { BPETokenizer } from '@tessera/bpe'
import { loadEmojiDataset } from '@tessera/datasets'
import { loadDvae } from '@tessera/dvae'
import { Device, tidy } from '@tessera/tensor-core'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { packTokenDataset, tokenDataset } from '../dist/index.js'
import { dvaeDir } from './dvae-dir.mjs'

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'packages/prior/.runs/emoji-data' },
    dvae: { type: 'string', default: 'dvae-emoji-32' },
    vocab: { type: 'string', default: '1024' },
    batch: { type: 'string', default: '64' },
  },
})

const device = await Device.create({ backend: 'auto' })
const { model: dvae, manifest } = await loadDvae(device, dvaeDir(args.dvae))
await mkdir(args.out, { recursive: true })

const splits = {}
for (const split of ['train', 'heldout']) {
  const set = await loadEmojiDataset({ split, imageSize: 32 })
  const batch = +args.batch
  const started = performance.now()
  let tokens = null
  for (let start = 0; start < set.length; start += batch) {
    const n = Math.min(batch, set.length - start)
    const size = 3 * set.imageSize * set.imageSize
    const t = tidy(() => dvae.encode(device.tensor(set.images.subarray(start * size, (start + n) * size), [n, 3, set.imageSize, set.imageSize])))
    const ids = await t.read()
    t.dispose()
    tokens ??= new Int32Array(set.length * (ids.length / n))
    tokens.set(ids, start * (ids.length / n))
  }
  const imageLength = tokens.length / set.length
  splits[split] = set
  const meta = { dvae: args.dvae, dvaeConfig: manifest.config, vendors: set.items.map((i) => i.vendor), hexcodes: set.items.map((i) => i.hexcode) }
  await writeFile(join(args.out, `${split}.tokens`), packTokenDataset(tokenDataset(set.captions, tokens, imageLength), meta))
  console.log(`${split}: ${set.length} images → ${imageLength} tokens each in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

// The tokenizer sees the training captions only; '<|pad|>' is the prior's pad id.
const tokenizer = await BPETokenizer.train(splits.train.captions, { vocabSize: +args.vocab, lowercase: true, specialTokens: ['<|pad|>'] })
await writeFile(join(args.out, 'tokenizer.json'), JSON.stringify(tokenizer))
const lengths = splits.train.captions.map((c) => tokenizer.encode(c).length).sort((a, b) => a - b)
const pct = (q) => lengths[Math.min(lengths.length - 1, Math.floor(q * lengths.length))]
console.log(`tokenizer: ${tokenizer.vocabSize} ids; caption tokens median ${pct(0.5)}, p95 ${pct(0.95)}, p99 ${pct(0.99)}, max ${lengths.at(-1)}`)
dvae.dispose()
device.destroy()
