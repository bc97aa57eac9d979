import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadEmojiDataset } from '@tessera/datasets'
import { modelUrl } from '@tessera/models'
import { clipRerank, evaluateRetrieval, loadClip, preprocessPixels, tokenRows } from '../src/index.js'
import { device } from './helpers.js'

const DIR = fileURLToPath(modelUrl('clip-emoji'))

describe('the bundled emoji CLIP', () => {
  it("reproduces its manifest's held-out retrieval on all 580 held-out emoji (CPU backend)", async () => {
    const d = await device('cpu')
    const { model, manifest, tokenizer } = await loadClip(d, DIR)
    const metrics = manifest.metrics as { heldOut: { textToImageTop5: number; imageToTextTop5: number; count: number } }
    const heldOut = await loadEmojiDataset({ imageSize: model.imageResolution, split: 'heldout' })
    expect(heldOut.length).toBe(metrics.heldOut.count)
    const images = preprocessPixels(heldOut.images, heldOut.imageSize, model.imageResolution)
    const m = await evaluateRetrieval(model, images, tokenRows(tokenizer, heldOut.captions, model.contextLength))
    // The manifest's numbers came from this evaluation on the CPU backend: the same up to rounding.
    expect(m.textToImageTop5).toBeCloseTo(metrics.heldOut.textToImageTop5, 3)
    expect(m.imageToTextTop5).toBeCloseTo(metrics.heldOut.imageToTextTop5, 3)
    model.dispose()
  })

  it('reranks emoji: for a held-out caption its own image scores above most others', async () => {
    const d = await device('webgpu')
    const { model, tokenizer } = await loadClip(d, DIR)
    const heldOut = await loadEmojiDataset({ imageSize: model.imageResolution, split: 'heldout' })
    const n = 64
    const images = { data: heldOut.images.subarray(0, n * 3 * 32 * 32), shape: [n, 3, 32, 32] as const }
    let rankSum = 0
    for (const i of [0, 9, 21, 33, 47, 60]) {
      const { indices } = await clipRerank(model, tokenizer, heldOut.captions[i]!, images)
      rankSum += indices.indexOf(i)
    }
    // Chance would put the true image at rank ~31.5 of 64 on average.
    expect(rankSum / 6).toBeLessThan(16)
    model.dispose()
  })
})
