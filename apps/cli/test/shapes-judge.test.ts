import { imageAt, makeShapesDataset } from '@tessera/datasets'
import { describe, expect, it } from 'vitest'
import { shapesJudge, shapesSplits } from '../src/data/shapes.js'

describe('the shapes adapter', () => {
  it('trains on the training split only and judges with the checker: seen and unseen captions apart, real images accepted, a blank one not', () => {
    const judge = shapesJudge()
    const seen = judge.captions('seen')
    const unseen = new Set(judge.captions('unseen'))
    expect(seen.length).toBeGreaterThan(0)
    expect(unseen.size).toBeGreaterThan(0)
    expect(seen.filter((c) => unseen.has(c))).toEqual([])

    const { train, heldOut } = shapesSplits(32, 0, 64)
    for (const caption of [...train.captions, ...heldOut.captions]) expect(unseen.has(caption), caption).toBe(false)
    const unseenImages = makeShapesDataset({ count: 4, imageSize: 32, seed: 3, split: 'heldout', maxShapes: 2, sizeWords: 'some' })
    for (const set of [train, unseenImages]) {
      for (let i = 0; i < 4; i++) expect(judge.accepts(imageAt(set, i), set.captions[i]!), set.captions[i]).toBe(true)
    }
    const blank = { channels: 3, height: 32, width: 32, data: new Float32Array(3 * 32 * 32).fill(1) }
    expect(judge.accepts(blank, train.captions[0]!)).toBe(false)
  })
})
