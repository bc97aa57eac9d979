import { ImageFormatError, ImageTooLargeError, ImageTruncatedError } from '../errors.js'
import type { RgbaImage } from './types.js'

// pngjs needs Node's zlib and streams: it is imported on first use, so browser bundles that
// never call these (they pass ImageData instead) do not pull it in.
type PngModule = typeof import('pngjs')
let pngModule: Promise<PngModule> | null = null
const loadPng = () => (pngModule ??= import('pngjs'))
type ZlibModule = typeof import('node:zlib')
let zlibModule: Promise<ZlibModule> | null = null
const loadZlib = () => (zlibModule ??= import('node:zlib'))

/** The largest image `decodePng` reads unless told otherwise: 16 Mpixel (4096 × 4096). */
export const DEFAULT_MAX_PIXELS = 4096 * 4096

export interface DecodePngOptions {
  /** Reject a PNG whose header declares more pixels than this, before allocating (default 16 Mpixel). */
  maxPixels?: number
}

/** What a PNG's IHDR chunk declares. */
export interface PngHeader {
  width: number
  height: number
  bitDepth: number
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: number
  interlaced: boolean
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10]
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] }
// Adam7: [x start, y start, x step, y step] of each pass.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const

const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
const chunkType = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!)

/** Reads and checks a PNG's signature and IHDR chunk (the first 33 bytes) without decoding anything. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) {
    throw new ImageFormatError(bytes.length < 8 && SIGNATURE.slice(0, bytes.length).every((v, i) => bytes[i] === v) ? 'the PNG ends inside its signature' : 'not a readable PNG (it lacks the PNG signature)')
  }
  if (bytes.length < 33) throw new ImageTruncatedError(`the PNG ends after ${bytes.length} bytes, inside its header (IHDR needs 33)`)
  if (chunkType(bytes, 12) !== 'IHDR' || u32(bytes, 8) !== 13) throw new ImageFormatError('not a readable PNG (its first chunk is not a 13-byte IHDR)')
  const width = u32(bytes, 16)
  const height = u32(bytes, 20)
  const bitDepth = bytes[24]!
  const colorType = bytes[25]!
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) throw new ImageFormatError(`not a readable PNG (it declares ${width}×${height} pixels)`)
  if (!DEPTHS[colorType]?.includes(bitDepth)) throw new ImageFormatError(`not a readable PNG (colour type ${colorType} with bit depth ${bitDepth})`)
  if (bytes[28]! > 1) throw new ImageFormatError(`not a readable PNG (interlace method ${bytes[28]})`)
  return { width, height, bitDepth, colorType, interlaced: bytes[28] === 1 }
}

/** Bytes of filtered scanlines the header's image needs once its IDAT data is inflated. */
function rawDataBytes({ width, height, bitDepth, colorType, interlaced }: PngHeader): number {
  const bitsPerPixel = CHANNELS[colorType]! * bitDepth
  const scanlines = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8)))
  if (!interlaced) return scanlines(width, height)
  let total = 0
  for (const [x0, y0, dx, dy] of ADAM7) total += scanlines(Math.max(0, Math.ceil((width - x0) / dx)), Math.max(0, Math.ceil((height - y0) / dy)))
  return total
}

/**
 * Walks the chunks and inflates the image data to check that none of them ends early: a PNG
 * cut short, or one whose compressed data holds fewer scanlines than its header declares
 * (pngjs reads those as zero pixels), is an ImageTruncatedError.
 */
async function checkPngData(bytes: Uint8Array, header: PngHeader): Promise<void> {
  const idat: Uint8Array[] = []
  let at = 8
  for (;;) {
    if (at + 8 > bytes.length) throw new ImageTruncatedError(`the PNG ends after ${bytes.length} bytes, before its IEND chunk`)
    const length = u32(bytes, at)
    const type = chunkType(bytes, at + 4)
    if (length > 0x7fffffff) throw new ImageFormatError(`not a readable PNG (chunk ${JSON.stringify(type)} at byte ${at} declares ${length} bytes)`)
    if (at + 12 + length > bytes.length) {
      throw new ImageTruncatedError(`the PNG ends after ${bytes.length} bytes, inside its ${JSON.stringify(type)} chunk at byte ${at} (which declares ${length} bytes)`)
    }
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length))
    if (type === 'IEND') break
    at += 12 + length
  }
  if (idat.length === 0) throw new ImageFormatError('not a readable PNG (no IDAT chunk)')
  const need = rawDataBytes(header)
  const zlib = await loadZlib()
  let got: number
  try {
    // Sync flush: a stream cut short gives what it holds instead of throwing; capped at what
    // the header needs, so a stream that inflates to more allocates no more than that.
    got = zlib.inflateSync(Buffer.concat(idat), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: need }).length
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return
    throw new ImageFormatError(`not a readable PNG (its image data does not inflate: ${(error as Error).message})`)
  }
  if (got < need) throw new ImageTruncatedError(`the PNG's image data ends early: ${got} of the ${need} bytes its ${header.width}×${header.height} header declares`)
}

/**
 * PNG bytes → RGBA (pngjs expands palette, grey and 16-bit images to 8-bit RGBA). A header
 * declaring more than `maxPixels` (default 16 Mpixel) is an ImageTooLargeError before anything
 * is allocated; a file or image data that ends early is an ImageTruncatedError.
 */
export async function decodePng(bytes: Uint8Array, options: DecodePngOptions = {}): Promise<RgbaImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS
  if (!(maxPixels >= 1)) throw new ImageFormatError(`maxPixels must be at least 1, got ${maxPixels}`)
  const header = readPngHeader(bytes)
  if (header.width * header.height > maxPixels) throw new ImageTooLargeError(header.width, header.height, maxPixels)
  await checkPngData(bytes, header)
  const { PNG } = await loadPng()
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) }
  } catch (error) {
    throw new ImageFormatError(`not a readable PNG (${(error as Error).message})`, { cause: error })
  }
}

/** RGBA → PNG bytes (8-bit RGBA, no interlace). */
export async function encodePng(image: RgbaImage): Promise<Uint8Array> {
  const { PNG } = await loadPng()
  if (image.data.length !== image.width * image.height * 4) {
    throw new ImageFormatError(`RGBA image ${image.width}×${image.height} needs ${image.width * image.height * 4} bytes, got ${image.data.length}`)
  }
  const png = new PNG({ width: image.width, height: image.height })
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength)
  const out = PNG.sync.write(png, { colorType: 6 })
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
