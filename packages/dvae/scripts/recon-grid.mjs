#!/usr/bin/env node
// Writes a PNG grid of held-out emoji: originals in the upper row of each pair, their
// reconstructions (encode → tokens → decode) below; --search encodes with searched tokens.
// Run after `pnpm build`:
//   node scripts/recon-grid.mjs --model ../../models/dvae-emoji-32 --out ../../models/dvae-emoji-32/recon-grid.png
import { writeFile } from 'node:fs/promises'
import { tidy } from '@tessera/tensor-core'
import { loadEmojiDataset, gatherBatch, encodePng, planesToRgba } from '@tessera/datasets'
import { psnr } from '@tessera/dvae'
import { openDvaeScript } from './open-model.mjs'

const { args, device, model } = await openDvaeScript({
  usage: 'node scripts/recon-grid.mjs [--model DIR] [--out PNG] [--columns N] [--rows N] [--scale N] [--backend cpu|webgpu] [--search]',
  backend: 'cpu',
  options: {
    out: { type: 'string', default: '../../models/dvae-emoji-32/recon-grid.png' },
    columns: { type: 'string', default: '12' },
    rows: { type: 'string', default: '2' },
    scale: { type: 'string', default: '3' },
    search: { type: 'boolean', default: false },
  },
})
const columns = Number(args.columns)
const pairs = Number(args.rows)
const scale = Number(args.scale)
const size = model.config.imageSize
const heldOut = await loadEmojiDataset({ imageSize: size, split: 'heldout' })
// Spread the picks over the held-out set (it is ordered by vendor, then hexcode).
const count = columns * pairs
const indices = Array.from({ length: count }, (_, i) => Math.floor((i * heldOut.length) / count))
const batch = gatherBatch(heldOut, indices)
const recon = tidy(() => model.decode(model.encode(device.tensor(batch.images, batch.shape), { search: args.search })))
const reconstructed = await recon.read()
recon.dispose()

// Canvas: `pairs` bands of two rows (original, reconstruction), 2 px white gutters, scaled up.
const cell = size + 2
const width = columns * cell * scale
const height = pairs * 2 * cell * scale
const canvas = new Float32Array(3 * width * height).fill(1)
const n = 3 * size * size
const paste = (source, index, col, row) => {
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const v = source[index * n + c * size * size + Math.floor(y / scale) * size + Math.floor(x / scale)]
        canvas[c * width * height + (row * cell * scale + scale + y) * width + col * cell * scale + scale + x] = v
      }
    }
  }
}
for (let i = 0; i < count; i++) {
  const col = i % columns
  const band = Math.floor(i / columns)
  paste(batch.images, i, col, 2 * band)
  paste(reconstructed, i, col, 2 * band + 1)
}
await writeFile(args.out, await encodePng(planesToRgba({ channels: 3, height, width, data: canvas })))
console.log(`wrote ${args.out}: ${count} held-out emoji${args.search ? ', searched tokens' : ''}, PSNR of these ${psnr(reconstructed, batch.images).toFixed(2)} dB`)
model.dispose()
device.destroy()
