#!/usr/bin/env node
// Writes a grid of compositional shapes images (README's example) and prints each caption with
// the checker's verdict. Rows 1–2 come from the training split, row 3 from the held-out one; the
// same scenes drawn at 32×32 and shown at 2× (nearest) go to a second file, to show what the
// default image size keeps. Run after `pnpm build`:  node scripts/shapes-samples.mjs
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { checkShapesImage, encodePng, imageAt, makeShapesDataset } from '@tessera/datasets'

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: 'docs/shapes-samples' }, seed: { type: 'string', default: '7' }, columns: { type: 'string', default: '4' } },
})
const columns = Number(args.columns)
const seed = Number(args.seed)
const GAP = 2

/** Cells of `cell` px side in rows of `columns`, GAP px of light grey between them. */
function grid(images, cell, scale) {
  const rows = Math.ceil(images.length / columns)
  const width = columns * cell * scale + (columns + 1) * GAP
  const height = rows * cell * scale + (rows + 1) * GAP
  const data = new Uint8Array(width * height * 4).fill(200)
  images.forEach((planes, k) => {
    const ox = GAP + (k % columns) * (cell * scale + GAP)
    const oy = GAP + Math.floor(k / columns) * (cell * scale + GAP)
    const n = cell * cell
    for (let y = 0; y < cell * scale; y++) {
      for (let x = 0; x < cell * scale; x++) {
        const i = Math.floor(y / scale) * cell + Math.floor(x / scale)
        const o = ((oy + y) * width + ox + x) * 4
        for (let c = 0; c < 3; c++) data[o + c] = Math.round(255 * Math.min(1, Math.max(0, planes.data[c * n + i])))
        data[o + 3] = 255
      }
    }
  })
  return { width, height, data }
}

for (const [size, scale] of [[64, 1], [32, 2]]) {
  const options = { imageSize: size, seed, maxShapes: 2, sizeWords: 'some' }
  const train = makeShapesDataset({ ...options, count: 2 * columns, split: 'train' })
  const held = makeShapesDataset({ ...options, count: columns, split: 'heldout' })
  const items = [...[...Array(train.length).keys()].map((i) => [train, i]), ...[...Array(held.length).keys()].map((i) => [held, i])]
  const file = `${args.out}-${size}.png`
  await writeFile(file, await encodePng(grid(items.map(([d, i]) => imageAt(d, i)), size, scale)))
  console.log(`${file}:`)
  for (const [d, i] of items) {
    const check = checkShapesImage(imageAt(d, i), d.captions[i])
    console.log(`  ${d.split.padEnd(7)} ${check.ok ? 'ok  ' : 'FAIL'} ${d.captions[i]}${check.ok ? '' : ` (${check.reasons.join('; ')})`}`)
  }
}
