import { rgbaToPlanes } from './convert.js'
import { fitSquare } from './resize.js'
import type { ImagePlanes, RgbaImage } from './types.js'

/**
 * What a model sees of an RGBA image: composited over white, shorter side resized (bicubic)
 * and centre-cropped to `size`×`size`, then clamped to [0, 1] — bicubic overshoots at hard
 * edges, and the dVAE takes logits of pixel values.
 */
export function fitImage(image: RgbaImage, size: number): ImagePlanes {
  const planes = fitSquare(rgbaToPlanes(image), size)
  const data = planes.data
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, data[i]!))
  return planes
}
