import { describe, expect, it } from 'vitest'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DatasetError,
  EpochSampler,
  ImageFormatError,
  encodePng,
  fitImage,
  gatherBatch,
  isHeldOut,
  loadEmojiDataset,
  loadImageFolder,
  loadPackedDataset,
  makeShapesDataset,
  normaliseHexcode,
  savePackedDataset,
} from '../src/index.js'

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
      await expect(loadPackedDataset(join(dir, 'absent'))).rejects.toThrow(/cannot read the packed dataset .*absent\.u8/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('image folders', () => {
  /** A w×h image in one colour, half transparent on the left. */
  function solid(width: number, height: number, rgb: [number, number, number]) {
    const data = new Uint8Array(width * height * 4)
    for (let i = 0; i < width * height; i++) data.set([...rgb, i % width < width / 2 ? 128 : 255], 4 * i)
    return { width, height, data }
  }

  it('loads every PNG under the folder with sidecar or file-name captions, splits by path, and names what it skips', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'folder-'))
    try {
      await mkdir(join(dir, 'animals'))
      const red = solid(20, 12, [255, 0, 0])
      await writeFile(join(dir, 'animals', 'red_fox-2.png'), await encodePng(red))
      await writeFile(join(dir, 'cat.png'), await encodePng(solid(8, 8, [0, 0, 255])))
      await writeFile(join(dir, 'cat.txt'), '\n  a blue cat \nsecond line\n')
      await writeFile(join(dir, 'photo.jpg'), new Uint8Array([0xff, 0xd8, 0xff]))
      for (let i = 0; i < 20; i++) await writeFile(join(dir, `dot${i}.png`), await encodePng(solid(4, 4, [i * 10, 0, 0])))

      const all = await loadImageFolder(dir, { imageSize: 6 })
      expect(all.length).toBe(22)
      expect(all.skipped).toEqual([{ path: 'photo.jpg', reason: expect.stringMatching(/not a PNG/), code: 'unsupported_format' }])
      const fox = all.files.indexOf('animals/red_fox-2.png')
      expect(all.captions[fox]).toBe('red fox 2')
      expect(all.captions[all.files.indexOf('cat.png')]).toBe('a blue cat')
      // The pixels are what the models see: composited over white, resized, centre-cropped.
      expect(Array.from(gatherBatch(all, [fox]).images)).toEqual(Array.from(fitImage(red, 6).data))

      const train = await loadImageFolder(dir, { imageSize: 6, split: 'train', heldOutFraction: 0.3 })
      const held = await loadImageFolder(dir, { imageSize: 6, split: 'heldout', heldOutFraction: 0.3 })
      expect([...train.files, ...held.files].sort()).toEqual([...all.files].sort())
      expect(held.length).toBeGreaterThan(0)
      expect(held.files.every((f) => isHeldOut(f, 0.3))).toBe(true)

      await writeFile(join(dir, 'broken.png'), new Uint8Array([1, 2, 3]))
      const withBroken = await loadImageFolder(dir)
      expect(withBroken.files).toEqual(all.files)
      expect(withBroken.skipped.map((s) => [s.path, s.code])).toEqual([['broken.png', 'image_format'], ['photo.jpg', 'unsupported_format']])
      await expect(loadImageFolder(join(dir, 'missing'))).rejects.toThrow(DatasetError)
      await rm(join(dir, 'animals'), { recursive: true })
      for (const f of all.files) await rm(join(dir, f), { force: true })
      await expect(loadImageFolder(dir)).rejects.toThrow(/no usable PNG images .*broken\.png: not a readable PNG/)
      await rm(join(dir, 'broken.png'))
      await expect(loadImageFolder(dir)).rejects.toThrow(/no PNG images .*photo\.jpg: convert them to PNG/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('skips a PNG declaring too many pixels and one cut short, with the reason, without reading them whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'folder-'))
    try {
      await writeFile(join(dir, 'good.png'), await encodePng(solid(8, 8, [0, 200, 0])))
      // 20000×20000 in 100 bytes: the header is all the loader reads of it.
      const bomb = await encodePng(solid(1, 1, [0, 0, 0]))
      new DataView(bomb.buffer, bomb.byteOffset).setUint32(16, 20000)
      new DataView(bomb.buffer, bomb.byteOffset).setUint32(20, 20000)
      await writeFile(join(dir, 'bomb.png'), bomb)
      const whole = await encodePng(solid(8, 8, [200, 0, 0]))
      await writeFile(join(dir, 'cut.png'), whole.subarray(0, whole.length - 20))
      await writeFile(join(dir, 'big.png'), await encodePng(solid(30, 30, [0, 0, 200])))

      const started = performance.now()
      const ds = await loadImageFolder(dir, { imageSize: 4, maxPixels: 400 })
      expect(performance.now() - started).toBeLessThan(2000)
      expect(ds.files).toEqual(['good.png'])
      expect(ds.skipped).toEqual([
        { path: 'big.png', code: 'image_too_large', reason: expect.stringMatching(/30×30 = 900 pixels, over the limit of 400/) },
        { path: 'bomb.png', code: 'image_too_large', reason: expect.stringMatching(/20000×20000/) },
        { path: 'cut.png', code: 'image_truncated', reason: expect.stringMatching(/ends after/) },
      ])
      // The default limit (16 Mpixel) takes the 30×30 image and still refuses the bomb.
      expect((await loadImageFolder(dir, { imageSize: 4 })).files).toEqual(['big.png', 'good.png'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
