import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tidy } from '@tessera/tensor-core'
import { gatherBatch, loadEmojiDataset } from '@tessera/datasets'
import { BUNDLED_MODELS, bundledModelUrl, loadDvae, preset, psnr } from '../src/index.js'
import { device } from './helpers.js'

describe.each(BUNDLED_MODELS)('bundled %s model', (name) => {
  it('has its preset config and reconstructs held-out emoji about as well as its manifest records', async () => {
    const d = await device('cpu')
    const { model, manifest } = await loadDvae(d, fileURLToPath(bundledModelUrl(name)))
    expect(model.config).toEqual(manifest.config)
    expect(model.config).toEqual(preset(name))
    const heldOut = await loadEmojiDataset({ imageSize: model.config.imageSize, split: 'heldout' })
    const batch = gatherBatch(heldOut, Array.from({ length: 48 }, (_, i) => Math.floor((i * heldOut.length) / 48)))
    const recon = tidy(() => model.decode(model.encode(d.tensor(batch.images, batch.shape))))
    const recorded = (manifest.metrics as { heldOutPsnrDb: number }).heldOutPsnrDb
    // A sample of 48 of the 580 held-out images: within 2 dB of the full-set figure.
    expect(psnr(await recon.read(), batch.images)).toBeGreaterThan(recorded - 2)
    recon.dispose()
    model.dispose()
  })
})
