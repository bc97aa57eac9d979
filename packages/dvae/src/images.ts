import { fitImage, planesToRgba, stackPlanes, type RgbaImage } from '@tessera/datasets'
import type { Device, Tensor } from '@tessera/tensor-core'
import { DvaeInputError } from './errors.js'

/**
 * RGBA images (pngjs output in Node, `ImageData` in browsers) → one NCHW f32 tensor in [0, 1]
 * at `size`×`size`: alpha composited over white, shorter side resized (bicubic), centre-cropped.
 */
export function imagesToTensor(device: Device, images: readonly RgbaImage[], size: number): Tensor {
  if (images.length === 0) throw new DvaeInputError('imagesToTensor needs at least one image')
  const { data, shape } = stackPlanes(images.map((image) => fitImage(image, size)))
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
