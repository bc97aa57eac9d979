#!/usr/bin/env node
// How many shapes scenes survive a dVAE round trip: the share of argmax-token reconstructions that
// @tessera/datasets' rule-based checker still accepts for the scene's own caption. A shapes bundle's
// samples cannot pass the checker more often than its dVAE's reconstructions do, so this is the
// ceiling its eval can reach. Run after `pnpm build`:
//   node scripts/check-shapes-recon.mjs --model ../../models/dvae-shapes-32 --count 500
import { tidy } from '@tessera/tensor-core'
import { checkShapesImage, makeShapesDataset } from '@tessera/datasets'
import { openDvaeScript } from './open-model.mjs'

const { args, device, model } = await openDvaeScript({
  usage: 'node scripts/check-shapes-recon.mjs [--model DIR] [--backend webgpu|cpu] [--count N per split] [--seed N] [--batch N]',
  options: {
    count: { type: 'string', default: '200' },
    seed: { type: 'string', default: '12345' },
    batch: { type: 'string', default: '50' },
  },
})
const size = model.config.imageSize
const count = Number(args.count)
const results = {}
// 'train' draws the combinations a shapes bundle trains on; 'heldout' the ones it never sees.
for (const split of ['train', 'heldout']) {
  const data = makeShapesDataset({ split, count, imageSize: size, seed: Number(args.seed), maxShapes: 2, sizeWords: 'some' })
  const per = 3 * size * size
  let originals = 0
  let reconstructions = 0
  const batch = Number(args.batch)
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start)
    const pixels = data.images.subarray(start * per, (start + n) * per)
    const recon = tidy(() => model.decode(model.encode(device.tensor(pixels, [n, 3, size, size]))))
    const out = await recon.read()
    recon.dispose()
    for (let k = 0; k < n; k++) {
      const caption = data.captions[start + k]
      const planes = (data) => ({ channels: 3, height: size, width: size, data })
      if (checkShapesImage(planes(pixels.subarray(k * per, (k + 1) * per)), caption).ok) originals++
      if (checkShapesImage(planes(out.subarray(k * per, (k + 1) * per)), caption).ok) reconstructions++
    }
  }
  results[split] = { images: count, originalsAccepted: originals, reconstructionsAccepted: reconstructions }
  console.log(`${split}: checker accepts ${originals}/${count} originals, ${reconstructions}/${count} reconstructions (${((100 * reconstructions) / count).toFixed(1)}%)`)
}
console.log(JSON.stringify({ model: args.model, seed: Number(args.seed), ...results }))
model.dispose()
device.destroy()
