import { describe, expect, it } from 'vitest'
import {
  centerCropPlanes,
  decodePng,
  encodePng,
  fitSquare,
  ImageFormatError,
  planesToRgba,
  resizePlanes,
  rgbaToPlanes,
  stackPlanes,
  unstackPlanes,
} from '../src/index.js'

function gradientRgba(width: number, height: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x)
      data[i] = (x * 37) % 256
      data[i + 1] = (y * 53) % 256
      data[i + 2] = (x * y) % 256
      data[i + 3] = 255
    }
  }
  return { width, height, data }
}

describe('PNG and layout conversions', () => {
  it('round-trips RGBA bytes through PNG encode/decode exactly', async () => {
    const img = gradientRgba(7, 5)
    const back = await decodePng(await encodePng(img))
    expect(back.width).toBe(7)
    expect(back.height).toBe(5)
    expect(Array.from(back.data)).toEqual(Array.from(img.data))
  })

  it('round-trips opaque RGBA → planes → RGBA exactly', () => {
    const img = gradientRgba(6, 4)
    const planes = rgbaToPlanes(img)
    expect([planes.channels, planes.height, planes.width]).toEqual([3, 4, 6])
    // Red of pixel (x=1, y=0) sits in plane 0 at offset 1.
    expect(planes.data[1]).toBeCloseTo(37 / 255, 6)
    expect(Array.from(planesToRgba(planes).data)).toEqual(Array.from(img.data))
  })

  it('composites transparency over white', () => {
    const data = new Uint8Array([255, 0, 0, 0, 0, 0, 255, 128])
    const planes = rgbaToPlanes({ width: 2, height: 1, data })
    expect(Array.from(planes.data.filter((_, i) => i % 2 === 0))).toEqual([1, 1, 1])
    expect(planes.data[1]).toBeCloseTo(1 - 128 / 255, 6)
    expect(planes.data[3]).toBeCloseTo(1 - 128 / 255, 6)
    expect(planes.data[5]).toBe(1)
  })

  it('stacks and unstacks NCHW batches', () => {
    const a = rgbaToPlanes(gradientRgba(3, 3))
    const b = rgbaToPlanes(gradientRgba(3, 3))
    b.data.fill(0.5)
    const batch = stackPlanes([a, b])
    expect(batch.shape).toEqual([2, 3, 3, 3])
    expect(Array.from(unstackPlanes(batch.data, batch.shape, 1).data)).toEqual(Array.from(b.data))
  })

  it('throws typed errors on malformed input', async () => {
    expect(() => rgbaToPlanes({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(ImageFormatError)
    await expect(decodePng(new Uint8Array([1, 2, 3]))).rejects.toThrow(ImageFormatError)
    expect(() => stackPlanes([rgbaToPlanes(gradientRgba(2, 2)), rgbaToPlanes(gradientRgba(3, 2))])).toThrow(/resize them/)
    expect(() => centerCropPlanes(rgbaToPlanes(gradientRgba(4, 2)), 3)).toThrow(ImageFormatError)
  })
})

describe('resize', () => {
  it('keeps a constant image constant and is the identity at the same size', () => {
    const planes = { channels: 1, height: 9, width: 9, data: new Float32Array(81).fill(0.3) }
    for (const [h, w] of [[4, 4], [20, 13], [9, 9]] as const) {
      for (const v of resizePlanes(planes, h, w).data) expect(v).toBeCloseTo(0.3, 5)
    }
  })

  it('halving averages 2×2 blocks of a checkerboard to grey (antialiased)', () => {
    const data = new Float32Array(64 * 64).map((_, i) => ((i % 64) + Math.floor(i / 64)) % 2)
    const out = resizePlanes({ channels: 1, height: 64, width: 64, data }, 32, 32)
    for (const v of out.data.subarray(5 * 32 + 5, 5 * 32 + 25)) expect(v).toBeCloseTo(0.5, 2)
  })

  it('preserves a linear ramp in the interior when upsampling', () => {
    const data = Float32Array.from({ length: 16 }, (_, x) => x / 15)
    const out = resizePlanes({ channels: 1, height: 1, width: 16, data }, 1, 32)
    // Output sample x' maps to source position (x' + 0.5)/2 - 0.5.
    for (let x = 4; x < 28; x++) expect(out.data[x]).toBeCloseTo(((x + 0.5) / 2 - 0.5) / 15, 5)
  })

  it('fitSquare centre-crops the longer side', () => {
    const data = new Float32Array(3 * 4 * 8)
    for (let c = 0; c < 3; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) data[c * 32 + y * 8 + x] = x >= 2 && x < 6 ? 1 : 0
    const out = fitSquare({ channels: 3, height: 4, width: 8, data }, 4)
    expect(Array.from(out.data)).toEqual(new Array(48).fill(1))
  })
})
