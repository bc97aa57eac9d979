import { ImageFormatError } from '../errors.js'
import type { RgbaImage } from './types.js'

// pngjs needs Node's zlib and streams: it is imported on first use, so browser bundles that
// never call these (they pass ImageData instead) do not pull it in.
type PngModule = typeof import('pngjs')
let pngModule: Promise<PngModule> | null = null
const loadPng = () => (pngModule ??= import('pngjs'))

/** PNG bytes → RGBA (pngjs expands palette, grey and 16-bit images to 8-bit RGBA). */
export async function decodePng(bytes: Uint8Array): Promise<RgbaImage> {
  const { PNG } = await loadPng()
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) }
  } catch (error) {
    throw new ImageFormatError(`not a readable PNG (${(error as Error).message})`)
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
