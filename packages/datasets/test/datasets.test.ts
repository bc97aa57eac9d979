import { describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatasetError, EpochSampler, gatherBatch, isHeldOut, loadEmojiDataset, loadPackedDataset, makeShapesDataset, normaliseHexcode, savePackedDataset } from '../src/index.js'

describe('synthetic shapes', () => {
  it('is deterministic per seed and captions match the drawn colour', () => {
    const a = makeShapesDataset({ count: 6, imageSize: 16, seed: 3 })
    const b = makeShapesDataset({ count: 6, imageSize: 16, seed: 3 })
    const c = makeShapesDataset({ count: 6, imageSize: 16, seed: 4 })
    expect(Array.from(a.images)).toEqual(Array.from(b.images))
    expect(Array.from(a.images)).not.toEqual(Array.from(c.images))
    expect(a.captions[0]).toBe(`a ${a.colours[0]} ${a.kinds[0]}`)
    // Corners stay white background; some pixel is fully covered by the shape.
    expect(a.images[0]).toBe(1)
    expect(a.images.some((v) => v < 0.5)).toBe(true)
    expect(() => makeShapesDataset({ count: 0 })).toThrow(DatasetError)
  })
})

describe('EpochSampler', () => {
  it('visits every index once per epoch and resumes from its state', () => {
    const s = new EpochSampler(10, 4, 7)
    const seen = [...s.next(), ...s.next(), ...s.next()].slice(0, 10)
    expect([...seen].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const state = s.state()
    const expected = [s.next(), s.next()]
    const resumed = new EpochSampler(10, 4, 7)
    resumed.setState(JSON.parse(JSON.stringify(state)))
    expect([resumed.next(), resumed.next()]).toEqual(expected)
    expect(() => new EpochSampler(10, 4, 8).setState(state)).toThrow(/seed/)
  })

  it('gathers batches and rejects out-of-range indices', () => {
    const d = makeShapesDataset({ count: 3, imageSize: 8 })
    const b = gatherBatch(d, [2, 0])
    expect(b.shape).toEqual([2, 3, 8, 8])
    expect(Array.from(b.images.subarray(0, 192))).toEqual(Array.from(d.images.subarray(384, 576)))
    expect(b.captions).toEqual([d.captions[2], d.captions[0]])
    expect(() => gatherBatch(d, [3])).toThrow(DatasetError)
  })
})

describe('emoji dataset', () => {
  it('joins every image to a caption and splits by base hexcode', async () => {
    const train = await loadEmojiDataset({ imageSize: 16, split: 'train' })
    const held = await loadEmojiDataset({ imageSize: 16, split: 'heldout' })
    expect(train.uncaptioned).toBe(0)
    expect(train.length + held.length).toBe(2 * 3786)
    expect(held.length / (train.length + held.length)).toBeGreaterThan(0.05)
    expect(held.length / (train.length + held.length)).toBeLessThan(0.15)
    const heldBases = new Set(held.items.map((i) => i.baseHexcode))
    expect(train.items.some((i) => heldBases.has(i.baseHexcode))).toBe(false)
    expect(held.items.every((i) => isHeldOut(i.baseHexcode, 0.1))).toBe(true)
    expect(train.images.length).toBe(train.length * 3 * 16 * 16)
    expect(train.images.every((v) => v >= 0 && v <= 1)).toBe(true)
    const grin = train.items.findIndex((i) => i.hexcode === '1F600' && i.vendor === 'twitter')
    expect(train.captions[grin]).toBe('grinning face')
    expect(train.items[grin]!.group).toBe('smileys-emotion')
  })

  it('leaves out skin tones on request and names valid vendors on error', async () => {
    const plain = await loadEmojiDataset({ imageSize: 16, vendors: ['google'], skinTones: false })
    expect(plain.items.every((i) => !i.skinTone && i.vendor === 'google')).toBe(true)
    expect(plain.length).toBeLessThan(2000)
    await expect(loadEmojiDataset({ vendors: ['apple' as never] })).rejects.toThrow(/twitter or google/)
    expect(normaliseHexcode('0023-fe0f-20e3')).toBe('0023-20E3')
  })
})

describe('packed datasets', () => {
  it('round-trip through 8-bit files within half a level, and reject files that disagree', async () => {
    const shapes = makeShapesDataset({ count: 5, imageSize: 8, seed: 1 })
    const dir = await mkdtemp(join(tmpdir(), 'packed-'))
    try {
      await savePackedDataset(shapes, join(dir, 'shapes'))
      const back = await loadPackedDataset(join(dir, 'shapes'))
      expect([back.length, back.imageSize, back.captions]).toEqual([5, 8, shapes.captions])
      let worst = 0
      for (let i = 0; i < shapes.images.length; i++) worst = Math.max(worst, Math.abs(back.images[i]! - shapes.images[i]!))
      expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-7)
      await writeFile(join(dir, 'shapes.u8'), new Uint8Array(10))
      await expect(loadPackedDataset(join(dir, 'shapes'))).rejects.toThrow(/10 bytes/)
      await writeFile(join(dir, 'shapes.json'), '{"format":"png"}')
      await expect(loadPackedDataset(join(dir, 'shapes'))).rejects.toThrow(DatasetError)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
