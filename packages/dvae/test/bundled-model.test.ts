import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tidy } from '@tessera/tensor-core'
import { gatherBatch, loadEmojiDataset } from '@tessera/datasets'
import { modelUrl } from '@tessera/models'
import { loadDvae, preset, psnr } from '../src/index.js'
import { device } from './helpers.js'

// PSNR of each model on the 48-image sample below (argmax tokens, CPU backend), measured when
// the model was bundled; its manifest records the figure on all 580 held-out images. A change
// that costs more than 0.2 dB here is a regression (or a retrained model: measure it again).
const SAMPLE_PSNR_DB: Record<string, number> = { 'emoji-32': 22.077, 'emoji-32-large': 22.777 }

// The shipped dVAEs (in @tessera/models as dvae-<preset name>).
describe.each(['emoji-32', 'emoji-32-large'] as const)('shipped %s model', (name) => {
  it('has its preset config and reconstructs held-out emoji about as well as its manifest records', async () => {
    const d = await device('cpu')
    const { model, manifest } = await loadDvae(d, fileURLToPath(modelUrl(`dvae-${name}`)))
    expect(model.config).toEqual(manifest.config)
    expect(model.config).toEqual(preset(name))
    const heldOut = await loadEmojiDataset({ imageSize: model.config.imageSize, split: 'heldout' })
    const batch = gatherBatch(heldOut, Array.from({ length: 48 }, (_, i) => Math.floor((i * heldOut.length) / 48)))
    const recon = tidy(() => model.decode(model.encode(d.tensor(batch.images, batch.shape))))
    const recorded = (manifest.metrics as { heldOutPsnrDb: number }).heldOutPsnrDb
    const sample = SAMPLE_PSNR_DB[name]
    if (sample === undefined) throw new Error(`no sample PSNR recorded for ${name}: add it to SAMPLE_PSNR_DB`)
    // The sample is 48 of the 580 images; its figure stays near the full set's.
    expect(Math.abs(sample - recorded)).toBeLessThan(0.5)
    const got = psnr(await recon.read(), batch.images)
    expect(Math.abs(got - sample), `${got.toFixed(3)} dB on the sample, recorded ${sample}`).toBeLessThan(0.2)
    recon.dispose()
    model.dispose()
  })
})
