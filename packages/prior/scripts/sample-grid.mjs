#!/usr/bin/env node
// Samples images for a few captions and writes a PNG grid: one row per caption, the prior's
// tokens decoded by the dVAE the data was encoded with (2 px white gutters, scaled up).
//   node packages/prior/scripts/sample-grid.mjs --model DIR --out grid.png [--captions "red heart|grinning face"] [--count 6]
// DIR is a prior directory (tessera train prior --out) with its tokenizer.json beside the weights.
import { BPETokenizer } from '@tessera/bpe'
import { encodePng } from '@tessera/datasets'
import { loadDvae } from '@tessera/dvae'
import { Device, ops, tidy } from '@tessera/tensor-core'
import { modelUrl, shippedName } from '@tessera/models'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { captionIds, loadPrior } from '../dist/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string', default: 'grid.png' },
    captions: { type: 'string', default: 'red heart|grinning face|thumbs up|fire|green apple|blue circle|sun|dog face' },
    count: { type: 'string', default: '6' },
    seed: { type: 'string', default: '0' },
    'top-k': { type: 'string', default: '64' },
    temperature: { type: 'string', default: '1' },
    guidance: { type: 'string' },
    scale: { type: 'string', default: '2' },
  },
})
const device = await Device.create({ backend: 'webgpu' })
const { prior, manifest } = await loadPrior(device, args.model)
const tokenizer = BPETokenizer.fromJSON(await readFile(join(args.model, 'tokenizer.json'), 'utf8'))
// The run's dVAE: a shipped model's name (or the preset name older runs recorded), else a directory.
const dvaeRef = manifest.training?.data?.dvae ?? 'dvae-emoji-32'
const shipped = shippedName(dvaeRef, 'dvae')
const { model: dvae } = await loadDvae(device, shipped ? fileURLToPath(modelUrl(shipped)) : dvaeRef)
const captions = args.captions.split('|')
const count = Number(args.count)
const ids = captions.map((c) => [...captionIds(tokenizer, c, prior.config.textLength, prior.config.padId, { truncate: true })])
const started = performance.now()
const tokens = await prior.generate(ids, {
  count,
  seed: Number(args.seed),
  sampler: [{ name: 'temperature', temperature: Number(args.temperature) }, { name: 'topK', k: Number(args['top-k']) }],
  guidance: args.guidance === undefined ? undefined : Number(args.guidance),
})
const seconds = (performance.now() - started) / 1000
const [rows, cols] = prior.config.gridSize
const images = tidy(() => dvae.decode(ops.reshape(tokens, [tokens.shape[0], rows, cols])))
const pixels = await images.read()
const size = dvae.config.imageSize
const scale = Number(args.scale)
const cell = size + 2
const width = count * cell * scale
const height = captions.length * cell * scale
const data = new Uint8Array(width * height * 4).fill(255)
for (let r = 0; r < captions.length; r++) {
  for (let c = 0; c < count; c++) {
    const img = pixels.subarray((r * count + c) * 3 * size * size, (r * count + c + 1) * 3 * size * size)
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const src = Math.floor(y / scale) * size + Math.floor(x / scale)
        const px = ((r * cell * scale + scale + y) * width + c * cell * scale + scale + x) * 4
        for (let ch = 0; ch < 3; ch++) data[px + ch] = Math.round(Math.min(1, Math.max(0, img[ch * size * size + src])) * 255)
      }
    }
  }
}
await writeFile(args.out, await encodePng({ width, height, data }))
console.log(`wrote ${args.out}: rows = ${captions.map((c) => JSON.stringify(c)).join(', ')}; ${count} samples each in ${seconds.toFixed(1)} s (${((captions.length * count) / seconds).toFixed(2)} images/s)`)
