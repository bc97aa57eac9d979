import { ImageFormatError } from '../errors.js'
import type { ImagePlanes } from './types.js'

/** Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom; what PIL's BICUBIC uses). */
function cubic(x: number): number {
  const a = -0.5
  const t = Math.abs(x)
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a
  return 0
}

/**
 * Per-output-sample source windows and normalised weights for resampling `inSize` → `outSize`.
 * When shrinking, the kernel is stretched by the scale factor so every source pixel
 * contributes (antialiasing, as PIL does); windows are clipped at the edges and renormalised.
 */
function resampleWeights(inSize: number, outSize: number): { starts: Int32Array; counts: Int32Array; weights: Float32Array; taps: number } {
  const scale = inSize / outSize
  const stretch = Math.max(scale, 1)
  const taps = Math.ceil(2 * stretch) * 2 + 1
  const starts = new Int32Array(outSize)
  const counts = new Int32Array(outSize)
  const weights = new Float32Array(outSize * taps)
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale
    const lo = Math.max(0, Math.floor(centre - 2 * stretch))
    const hi = Math.min(inSize, Math.ceil(centre + 2 * stretch))
    let total = 0
    for (let i = lo; i < hi; i++) {
      const w = cubic((i + 0.5 - centre) / stretch)
      weights[o * taps + (i - lo)] = w
      total += w
    }
    for (let i = lo; i < hi; i++) weights[o * taps + (i - lo)]! /= total
    starts[o] = lo
    counts[o] = hi - lo
  }
  return { starts, counts, weights, taps }
}

/** Bicubic resize of every plane (separable: rows first, then columns). Values are not clamped. */
export function resizePlanes(planes: ImagePlanes, outHeight: number, outWidth: number): ImagePlanes {
  const { channels, height, width, data } = planes
  for (const [name, v] of [['height', outHeight], ['width', outWidth]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ImageFormatError(`resize ${name} must be a positive integer, got ${v}`)
  }
  if (outHeight === height && outWidth === width) return { channels, height, width, data: data.slice() }
  const hx = resampleWeights(width, outWidth)
  const hy = resampleWeights(height, outHeight)
  const rows = new Float32Array(channels * height * outWidth)
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const src = (c * height + y) * width
      const dst = (c * height + y) * outWidth
      for (let x = 0; x < outWidth; x++) {
        let acc = 0
        const s = hx.starts[x]!
        for (let k = 0; k < hx.counts[x]!; k++) acc += hx.weights[x * hx.taps + k]! * data[src + s + k]!
        rows[dst + x] = acc
      }
    }
  }
  const out = new Float32Array(channels * outHeight * outWidth)
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outHeight; y++) {
      const s = hy.starts[y]!
      const dst = (c * outHeight + y) * outWidth
      for (let k = 0; k < hy.counts[y]!; k++) {
        const w = hy.weights[y * hy.taps + k]!
        const src = (c * height + s + k) * outWidth
        for (let x = 0; x < outWidth; x++) out[dst + x]! += w * rows[src + x]!
      }
    }
  }
  return { channels, height: outHeight, width: outWidth, data: out }
}

/** The centred `size`×`size` square (the largest one when `size` is omitted). */
export function centerCropPlanes(planes: ImagePlanes, size = Math.min(planes.height, planes.width)): ImagePlanes {
  const { channels, height, width, data } = planes
  if (!Number.isInteger(size) || size < 1 || size > height || size > width) {
    throw new ImageFormatError(`cannot crop a ${size}×${size} square from a ${width}×${height} image`)
  }
  const top = Math.floor((height - size) / 2)
  const left = Math.floor((width - size) / 2)
  const out = new Float32Array(channels * size * size)
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      const src = (c * height + top + y) * width + left
      out.set(data.subarray(src, src + size), (c * size + y) * size)
    }
  }
  return { channels, height: size, width: size, data: out }
}

/** Resizes the shorter side to `size` (bicubic), then centre-crops to `size`×`size`: the model's input. */
export function fitSquare(planes: ImagePlanes, size: number): ImagePlanes {
  if (!Number.isInteger(size) || size < 1) throw new ImageFormatError(`target size must be a positive integer, got ${size}`)
  const scale = size / Math.min(planes.height, planes.width)
  const h = Math.max(size, Math.round(planes.height * scale))
  const w = Math.max(size, Math.round(planes.width * scale))
  return centerCropPlanes(resizePlanes(planes, h, w), size)
}
