import { AREA_OVER_EXTENT_SQUARED, CENTROID_BELOW_BOX_CENTRE, outline } from './geometry.js'
import { rasterize } from './render.js'
import type { Point } from './relation.js'
import type { Blob } from './segment.js'
import { SHAPE_KINDS, SIZE_CLASS_BOUNDARY, type ShapeKind, type ShapeSize } from './vocabulary.js'

/**
 * What a blob is: the template that fits its coverage best. For each kind, the template is
 * that kind drawn upright with the blob's area and centre of mass (both survive a blur, so the
 * template's extent and place follow from them exactly), then blurred by each of a few
 * Gaussian widths, since a reconstruction may be blurry; the kind whose template leaves the
 * least squared difference wins. This uses every pixel of the blob rather than one feature
 * (fill ratio, corners, convexity), which matters at 32×32, where a small star is 8 px across
 * and a 3×3 blur fills most of its notches: what is left of them still fits a blurred star
 * better than a blurred circle.
 */

/**
 * Gaussian blur widths the templates are tried at, in pixels of a 32×32 image (scaled with the
 * image): none up to 1 px, a little more than a 3×3 box blur (σ 0.82). Not more: a 1.1 px blur of
 * a circle fits a blurred 8 px star better than the star's own template does.
 */
const TEMPLATE_BLURS_AT_32 = [0, 0.4, 0.6, 0.8, 1.0]

/** Extra pixels around the blob's window where a template that spills over is charged for it. */
const TEMPLATE_PAD = 3

export interface KindFit {
  kind: ShapeKind
  /** The template's extent (the longer side of its box), in image-side units. */
  extent: number
  /** The centre of the template's box, in image-side units. */
  centre: Point
  /** The Gaussian width (px) of the best-fitting blurred template. */
  blur: number
  /** √(Σ (blob − template)² / Σ blob²): 0 for a perfect fit; ≤ 0.14 for the right kind blurred and noisy, ≥ 0.22 for a wrong one clean. */
  mismatch: number
}

/** Each kind's best fit to the blob, best first. */
export function fitKinds(blob: Blob, imageSize: number): KindFit[] {
  const w = blob.window
  // The comparison window: the blob's window grown by TEMPLATE_PAD, clipped to the image.
  const x0 = Math.max(0, w.x0 - TEMPLATE_PAD)
  const y0 = Math.max(0, w.y0 - TEMPLATE_PAD)
  const width = Math.min(imageSize, w.x0 + w.width + TEMPLATE_PAD) - x0
  const height = Math.min(imageSize, w.y0 + w.height + TEMPLATE_PAD) - y0
  const observed = new Float32Array(width * height)
  let energy = 0
  for (let y = 0; y < w.height; y++) {
    for (let x = 0; x < w.width; x++) {
      const v = w.coverage[y * w.width + x]!
      observed[(y + w.y0 - y0) * width + (x + w.x0 - x0)] = v
      energy += v * v
    }
  }
  const fits = SHAPE_KINDS.map((kind): KindFit => {
    const extent = Math.sqrt(blob.area / AREA_OVER_EXTENT_SQUARED[kind])
    const cx = blob.centroid.x
    const cy = blob.centroid.y - CENTROID_BELOW_BOX_CENTRE[kind] * extent
    const sharp = rasterize(outline(kind, cx, cy, extent), x0, y0, width, height)
    let best = { blur: 0, error: Infinity }
    for (const sigma of TEMPLATE_BLURS_AT_32.map((s) => (s * imageSize) / 32)) {
      const template = sigma === 0 ? sharp : gaussianBlur(sharp, width, height, sigma)
      let error = 0
      for (let i = 0; i < observed.length; i++) error += (observed[i]! - template[i]!) ** 2
      if (error < best.error) best = { blur: sigma, error }
    }
    return { kind, extent: extent / imageSize, centre: { x: cx / imageSize, y: cy / imageSize }, blur: best.blur, mismatch: Math.sqrt(best.error / Math.max(energy, 1e-9)) }
  })
  return fits.sort((a, b) => a.mismatch - b.mismatch)
}

/** The size class of an extent (image-side units): small below SIZE_CLASS_BOUNDARY. */
export function sizeClassOf(extent: number): ShapeSize {
  return extent < SIZE_CLASS_BOUNDARY ? 'small' : 'large'
}

/** Separable Gaussian blur with zeros beyond the window (the template is empty there). */
function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma)
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)))
  const sum = kernel.reduce((a, b) => a + b, 0)
  for (let k = 0; k < kernel.length; k++) kernel[k]! /= sum
  const rows = new Float32Array(src.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0
      for (let k = -radius; k <= radius; k++) {
        const xx = x + k
        if (xx >= 0 && xx < width) acc += kernel[k + radius]! * src[y * width + xx]!
      }
      rows[y * width + x] = acc
    }
  }
  const out = new Float32Array(src.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0
      for (let k = -radius; k <= radius; k++) {
        const yy = y + k
        if (yy >= 0 && yy < height) acc += kernel[k + radius]! * rows[yy * width + x]!
      }
      out[y * width + x] = acc
    }
  }
  return out
}
