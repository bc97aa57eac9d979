import { describe, expect, it } from 'vitest'
import { decodePng, DvaeInputError, encodePng, imagesToTensor, mapPixels, tensorToImages, unmapPixels } from '../src/index.js'
import { device, expectClose } from './helpers.js'

function checker(width: number, height: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    data.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, 255], 4 * i)
  }
  return { width, height, data }
}

describe.each(['cpu', 'webgpu'] as const)('image I/O on %s', (backend) => {
  it('PNG → tensor → PNG is exact at the model size', async () => {
    const d = await device(backend)
    const original = checker(8, 8)
    const decoded = await decodePng(await encodePng(original))
    const t = imagesToTensor(d, [decoded, decoded], 8)
    expect(t.shape).toEqual([2, 3, 8, 8])
    const [back] = await tensorToImages(t)
    expect(Array.from(back!.data)).toEqual(Array.from(original.data))
    t.dispose()
  })

  it('resizes and centre-crops to the model size, keeping values in [0, 1]', async () => {
    const d = await device(backend)
    const t = imagesToTensor(d, [checker(40, 24)], 16)
    expect(t.shape).toEqual([1, 3, 16, 16])
    const values = await t.read()
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true)
    t.dispose()
    expect(() => imagesToTensor(d, [], 16)).toThrow(DvaeInputError)
  })

  it('mapPixels and unmapPixels are inverse (clamped to [0, 1])', async () => {
    const d = await device(backend)
    const x = d.tensor([0, 0.25, 1, -0.5, 1.5, 0.5], [1, 1, 2, 3])
    const mapped = mapPixels(x)
    expectClose(await mapped.read(), [0.1, 0.3, 0.9, -0.3, 1.3, 0.5], 1e-6, 1e-6, 'map')
    const back = unmapPixels(mapped)
    expectClose(await back.read(), [0, 0.25, 1, 0, 1, 0.5], 1e-6, 1e-6, 'unmap')
    for (const t of [x, mapped, back]) t.dispose()
    expect(() => mapPixels(d.tensor([1, 2], [2]))).toThrow(/NCHW/)
  })
})
