import { fitSquare, planesToRgba, rgbaToPlanes, stackPlanes, type RgbaImage } from '@tessera/datasets'
import type { Device, Tensor } from '@tessera/tensor-core'
import { DvaeInputError } from './errors.js'

/**
 * RGBA images (pngjs output in Node, `ImageData` in browsers) → one NCHW f32 tensor in [0, 1]
 * at `size`×`size`: alpha composited over white, shorter side resized (bicubic), centre-cropped.
 */
export function imagesToTensor(device: Device, images: readonly RgbaImage[], size: number): Tensor {
  if (images.length === 0) throw new DvaeInputError('imagesToTensor needs at least one image')
  const planes = images.map((image) => {
    const fitted = fitSquare(rgbaToPlanes(image), size)
    // Bicubic overshoots at hard edges; the model takes logits of pixel values, so keep [0, 1].
    for (let i = 0; i < fitted.data.length; i++) fitted.data[i] = Math.min(1, Math.max(0, fitted.data[i]!))
    return fitted
  })
  const { data, shape } = stackPlanes(planes)
  return device.tensor(data, shape)
}

/** NCHW images in [0, 1] (1 or 3 channels) → opaque RGBA images, one per batch entry. */
export async function tensorToImages(images: Tensor): Promise<RgbaImage[]> {
  if (images.rank !== 4 || (images.shape[1] !== 3 && images.shape[1] !== 1)) {
    throw new DvaeInputError(`tensorToImages expects [N, 3 or 1, H, W], got [${images.shape.join(', ')}]`)
  }
  const [n, channels, height, width] = images.shape as [number, number, number, number]
  const values = (await images.read()) as Float32Array
  const size = channels * height * width
  return Array.from({ length: n }, (_, i) => planesToRgba({ channels, height, width, data: values.subarray(i * size, (i + 1) * size) }))
}
