#!/usr/bin/env node
// Writes the emoji train and held-out splits as packed 8-bit files (DIR/emoji-train.{u8,json},
// DIR/emoji-heldout.{u8,json}) for machines without the npm image packages and for the PyTorch
// reference scripts. Run after `pnpm build`:  node scripts/pack-emoji.mjs --size 32 --out /tmp/emoji-32
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadEmojiDataset, savePackedDataset } from '@tessera/datasets'

const { values: args } = parseArgs({ options: { size: { type: 'string', default: '32' }, out: { type: 'string', default: 'emoji-packed' } } })
await mkdir(args.out, { recursive: true })
for (const split of ['train', 'heldout']) {
  const dataset = await loadEmojiDataset({ imageSize: Number(args.size), split })
  await savePackedDataset(dataset, join(args.out, `emoji-${split}`))
  console.log(`${split}: ${dataset.length} images → ${join(args.out, `emoji-${split}`)}.{u8,json}`)
}
