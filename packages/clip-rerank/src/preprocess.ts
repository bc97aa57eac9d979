import { fitSquare, rgbaToPlanes, type ImagePlanes, type RgbaImage } from '@tessera/datasets'
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
  const fitted = fitSquare(planes, resolution)
  return normalizeImages(fitted.data, resolution)
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
    const fitted = fitSquare({ channels: 3, height: size, width: size, data: pixels.subarray(i * per, (i + 1) * per) }, resolution)
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
