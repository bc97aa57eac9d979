import { ImageFormatError } from '../errors.js'
import type { ImagePlanes, RgbaImage } from './types.js'

function checkRgba(image: RgbaImage): void {
  const { width, height, data } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageFormatError(`image size must be positive integers, got ${width}×${height}`)
  }
  if (data.length !== width * height * 4) {
    throw new ImageFormatError(`RGBA image ${width}×${height} needs ${width * height * 4} bytes, got ${data.length}`)
  }
}

/**
 * RGBA bytes → RGB float planes in [0, 1], alpha composited over a background (white by
 * default: emoji art is drawn on transparency, and the models see it on white).
 */
export function rgbaToPlanes(image: RgbaImage, background: readonly [number, number, number] = [1, 1, 1]): ImagePlanes {
  checkRgba(image)
  const { width, height, data } = image
  const n = width * height
  const out = new Float32Array(3 * n)
  for (let i = 0; i < n; i++) {
    const a = data[4 * i + 3]! / 255
    for (let c = 0; c < 3; c++) out[c * n + i] = (data[4 * i + c]! / 255) * a + background[c]! * (1 - a)
  }
  return { channels: 3, height, width, data: out }
}

/** RGB (or grey) float planes → opaque RGBA bytes, values clamped to [0, 1] and rounded. */
export function planesToRgba(planes: ImagePlanes): RgbaImage {
  const { channels, height, width, data } = planes
  if (channels !== 1 && channels !== 3) throw new ImageFormatError(`planesToRgba takes 1 or 3 channels, got ${channels}`)
  if (data.length !== channels * height * width) {
    throw new ImageFormatError(`planes [${channels}, ${height}, ${width}] need ${channels * height * width} values, got ${data.length}`)
  }
  const n = width * height
  const out = new Uint8Array(4 * n)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = data[(channels === 3 ? c : 0) * n + i]!
      out[4 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255)
    }
    out[4 * i + 3] = 255
  }
  return { width, height, data: out }
}

/** Concatenates same-sized planes into one NCHW batch. */
export function stackPlanes(images: readonly ImagePlanes[]): { data: Float32Array; shape: [number, number, number, number] } {
  if (images.length === 0) throw new ImageFormatError('stackPlanes needs at least one image')
  const { channels, height, width } = images[0]!
  const size = channels * height * width
  const out = new Float32Array(images.length * size)
  images.forEach((img, i) => {
    if (img.channels !== channels || img.height !== height || img.width !== width) {
      throw new ImageFormatError(
        `image ${i} is [${img.channels}, ${img.height}, ${img.width}], image 0 is [${channels}, ${height}, ${width}]: resize them to one size first`,
      )
    }
    out.set(img.data, i * size)
  })
  return { data: out, shape: [images.length, channels, height, width] }
}

/** Image `index` of an NCHW batch, as planes (a copy). */
export function unstackPlanes(batch: Float32Array, shape: readonly number[], index: number): ImagePlanes {
  if (shape.length !== 4) throw new ImageFormatError(`expected an NCHW shape, got [${shape.join(', ')}]`)
  const [n, channels, height, width] = shape as [number, number, number, number]
  if (batch.length !== n * channels * height * width) throw new ImageFormatError(`batch of ${batch.length} values does not fill [${shape.join(', ')}]`)
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new ImageFormatError(`image index ${index} is outside the batch of ${n}`)
  const size = channels * height * width
  return { channels, height, width, data: batch.slice(index * size, (index + 1) * size) }
}
