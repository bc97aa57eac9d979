import { centerCropPlanes, resizePlanes, rgbaToPlanes, type ImagePlanes, type RgbaImage } from '@tessera/datasets'
import { ClipInputError } from './errors.js'

/** CLIP's per-channel normalisation (OpenAI's `_transform`). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const

/**
 * OpenAI's preprocessing of one image: bicubic resize of the shorter side to `resolution`
 * (antialiased, as PIL's), centre crop, clamp to [0, 1] (PIL stores bytes), CLIP's mean/std.
 * RGBA images are composited over white (OpenAI's `convert("RGB")` drops alpha instead; for
 * emoji on transparent backgrounds white is what the datasets use). → f32 [3, R, R].
 */
export function preprocess(image: RgbaImage | ImagePlanes, resolution: number): Float32Array {
  const planes = 'channels' in image ? image : rgbaToPlanes(image)
  if (planes.channels !== 3) throw new ClipInputError(`CLIP takes RGB images, got ${planes.channels} channels`)
  return normalizeImages(resizeAndCrop(planes, resolution).data, resolution)
}

/**
 * torchvision's Resize(R) then CenterCrop(R) on a PIL image, as OpenAI's `_transform`: the
 * shorter side becomes R and the longer int(R·long/short) (truncated), resampled bicubically
 * with PIL's antialiasing (`resizePlanes` of @tessera/datasets); the crop starts at
 * round((side − R)/2) (Python's round: halves to even).
 */
export function resizeAndCrop(planes: ImagePlanes, resolution: number): ImagePlanes {
  const { height: h, width: w } = planes
  const short = Math.min(h, w)
  const long = Math.max(h, w)
  const newLong = Math.floor((resolution * long) / short)
  const [nh, nw] = w <= h ? [newLong, resolution] : [resolution, newLong]
  const resized = resizePlanes(planes, nh, nw)
  const top = pyRound((nh - resolution) / 2)
  const left = pyRound((nw - resolution) / 2)
  if (top === Math.floor((nh - resolution) / 2) && left === Math.floor((nw - resolution) / 2)) return centerCropPlanes(resized, resolution)
  const out = new Float32Array(3 * resolution * resolution)
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < resolution; y++) {
      const src = (c * nh + top + y) * nw + left
      out.set(resized.data.subarray(src, src + resolution), (c * resolution + y) * resolution)
    }
  }
  return { channels: 3, height: resolution, width: resolution, data: out }
}

/** Python 3's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const f = Math.floor(x)
  const d = x - f
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1
}

/**
 * Batches of pixels in [0, 1], [N, 3, S, S] → CLIP's input [N, 3, R, R]: each image resized
 * (bicubic, as `preprocess`) when S ≠ R, clamped, normalised.
 */
export function preprocessPixels(pixels: Float32Array, size: number, resolution: number): Float32Array {
  const per = 3 * size * size
  if (pixels.length % per) throw new ClipInputError(`${pixels.length} values are not whole [3, ${size}, ${size}] images`)
  const n = pixels.length / per
  if (size === resolution) return normalizeImages(pixels, resolution)
  const out = new Float32Array(n * 3 * resolution * resolution)
  for (let i = 0; i < n; i++) {
    const fitted = resizeAndCrop({ channels: 3, height: size, width: size, data: pixels.subarray(i * per, (i + 1) * per) }, resolution)
    out.set(normalizeImages(fitted.data, resolution), i * 3 * resolution * resolution)
  }
  return out
}

/** [N, 3, R, R] pixels → clamped to [0, 1] and normalised with CLIP's mean/std. */
export function normalizeImages(pixels: Float32Array, resolution: number): Float32Array {
  const plane = resolution * resolution
  if (pixels.length % (3 * plane)) throw new ClipInputError(`${pixels.length} values are not whole [3, ${resolution}, ${resolution}] images`)
  const out = new Float32Array(pixels.length)
  for (let i = 0; i < pixels.length; i++) {
    const c = Math.floor(i / plane) % 3
    out[i] = (Math.min(1, Math.max(0, pixels[i]!)) - CLIP_MEAN[c]!) / CLIP_STD[c]!
  }
  return out
}
