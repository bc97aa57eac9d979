import { deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  centerCropPlanes,
  decodePng,
  encodePng,
  fitSquare,
  ImageFormatError,
  ImageTooLargeError,
  ImageTruncatedError,
  planesToRgba,
  readPngHeader,
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

/** A PNG built by hand: IHDR as given, one IDAT holding `raw` deflated, IEND. */
function handMadePng(width: number, height: number, raw: Uint8Array, colorType = 6, bitDepth = 8): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length)
    const view = new DataView(out.buffer)
    view.setUint32(0, data.length)
    out.set(Array.from(type, (ch) => ch.charCodeAt(0)), 4)
    out.set(data, 8)
    let crc = 0xffffffff
    for (const b of out.subarray(4, 8 + data.length)) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8)
    view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0)
    return out
  }
  const ihdr = new Uint8Array(13)
  new DataView(ihdr.buffer).setUint32(0, width)
  new DataView(ihdr.buffer).setUint32(4, height)
  ihdr[8] = bitDepth
  ihdr[9] = colorType
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) (out.set(p, at), (at += p.length))
  return out
}

describe('hostile PNGs', () => {
  it('rejects a tiny file declaring 20000×20000 pixels before allocating, with a configurable limit', async () => {
    const bomb = handMadePng(20000, 20000, new Uint8Array(10))
    expect(bomb.length).toBeLessThan(300)
    const started = performance.now()
    const error = await decodePng(bomb).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1000) // before: 26 s and 4.7 GB
    expect(error).toBeInstanceOf(ImageTooLargeError)
    expect(error).toBeInstanceOf(ImageFormatError)
    expect(error).toMatchObject({ code: 'image_too_large', width: 20000, height: 20000, maxPixels: 4096 * 4096 })
    expect(readPngHeader(bomb)).toMatchObject({ width: 20000, height: 20000, bitDepth: 8, colorType: 6, interlaced: false })
    // The limit is the caller's: 7×5 = 35 pixels passes at 35 and fails at 34.
    const small = await encodePng(gradientRgba(7, 5))
    await expect(decodePng(small, { maxPixels: 34 })).rejects.toThrow(ImageTooLargeError)
    expect((await decodePng(small, { maxPixels: 35 })).width).toBe(7)
  })

  it('rejects a PNG whose compressed data holds fewer scanlines than its header declares', async () => {
    // 8×8 RGBA needs 8 × (1 + 32) bytes of scanlines; this holds 3 rows. pngjs alone returns zeros.
    const short = handMadePng(8, 8, new Uint8Array(3 * 33))
    await expect(decodePng(short)).rejects.toThrow(ImageTruncatedError)
    await expect(decodePng(short)).rejects.toMatchObject({ code: 'image_truncated', message: /99 of the 264 bytes/ })
    // The same file with every row present decodes.
    expect((await decodePng(handMadePng(8, 8, new Uint8Array(8 * 33)))).data.length).toBe(256)
  })

  it('rejects a file cut anywhere: inside the signature, the header, a chunk, or before IEND', async () => {
    const rgba = gradientRgba(16, 16)
    for (let i = 0; i < rgba.data.length; i++) rgba.data[i] = (i * 2654435761) >>> 24 // incompressible
    const whole = await encodePng(rgba)
    for (const cut of [4, 20, 40, whole.length >> 1, whole.length - 13, whole.length - 1]) {
      const error = await decodePng(whole.subarray(0, cut)).catch((e: unknown) => e)
      expect(error, `cut at ${cut}`).toBeInstanceOf(ImageFormatError)
      if (cut >= 8) expect((error as ImageTruncatedError).code, `cut at ${cut}`).toBe('image_truncated')
    }
    expect(Array.from((await decodePng(whole)).data)).toEqual(Array.from(rgba.data))
  })

  it('checks interlaced and low-bit-depth images against the right scanline size', async () => {
    // 5×3 grey at 1 bit per pixel, Adam7: the seven passes are 1×1, 1×1, empty, 1×1, 3×1, 2×2, 5×1.
    const passes = [[1, 1], [1, 1], [0, 0], [1, 1], [3, 1], [2, 2], [5, 1]] as const
    const need = passes.reduce((n, [w, h]) => n + (w && h ? h * (1 + Math.ceil(w / 8)) : 0), 0)
    const png = handMadePng(5, 3, new Uint8Array(need), 0, 1)
    png[28] = 1 // interlace method in IHDR; then its CRC again, so that pngjs accepts it
    const crcTable = Array.from({ length: 256 }, (_, n) => {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      return c >>> 0
    })
    let crc = 0xffffffff
    for (const b of png.subarray(12, 29)) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8)
    new DataView(png.buffer).setUint32(29, (crc ^ 0xffffffff) >>> 0)
    expect((await decodePng(png)).width).toBe(5)
    const short = handMadePng(5, 3, new Uint8Array(need - 1), 0, 1)
    short.set(png.subarray(28, 33), 28)
    await expect(decodePng(short)).rejects.toThrow(ImageTruncatedError)
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
