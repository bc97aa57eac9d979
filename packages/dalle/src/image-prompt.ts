import { planesToRgba, type ImagePlanes, type RgbaImage } from '@tessera/datasets'
import { imagesToTensor, type DiscreteVAE } from '@tessera/dvae'
import { tidy } from '@tessera/tensor-core'
import { DalleInputError } from './errors.js'

/** Image-to-image: the tokens of a region of `image` are kept, the rest sampled. */
export interface ImagePromptInput {
  /** RGBA (pngjs, ImageData) or float planes [3, H, W] in [0, 1]; fitted to the dVAE's image size (centre crop). */
  image: RgbaImage | ImagePlanes
  /** Which tokens to keep: the top rows, the left columns, or H·W flags in raster order (1 = keep). */
  keep: 'top' | 'left' | Uint8Array | readonly number[]
  /** For 'top' / 'left': the share of rows / columns kept, in (0, 1], rounded to whole tokens (default 0.5). */
  amount?: number
  /** Choose the image's tokens by the dVAE's decoder search (closer to the image, ~100× the encode's cost). */
  search?: boolean
}

/** The H·W keep-flags of a region of a rows × cols grid. */
export function regionMask(keep: ImagePromptInput['keep'], gridSize: readonly [number, number], amount = 0.5): Uint8Array {
  const [rows, cols] = gridSize
  if (typeof keep !== 'string') {
    if (keep.length !== rows * cols) throw new DalleInputError(`the keep mask has ${keep.length} flags; the token grid has ${rows}×${cols} = ${rows * cols}`)
    return Uint8Array.from(keep, (v) => (v ? 1 : 0))
  }
  if (keep !== 'top' && keep !== 'left') throw new DalleInputError(`imagePrompt.keep must be 'top', 'left' or a mask of ${rows * cols} flags, got ${JSON.stringify(keep)}`)
  if (!(amount > 0 && amount <= 1)) throw new DalleInputError(`imagePrompt.amount must be in (0, 1], got ${amount}`)
  const lines = Math.max(1, Math.round(amount * (keep === 'top' ? rows : cols)))
  return Uint8Array.from({ length: rows * cols }, (_, i) => (keep === 'top' ? Math.floor(i / cols) < lines : i % cols < lines) ? 1 : 0)
}

/** The dVAE's tokens of one image, raster order (H·W). */
export async function imageTokens(dvae: DiscreteVAE, image: RgbaImage | ImagePlanes, search = false): Promise<Int32Array> {
  const rgba = 'channels' in image ? planesToRgba(image) : image
  const tokens = tidy(() => dvae.encode(imagesToTensor(dvae.device, [rgba], dvae.config.imageSize), { search }))
  try {
    return (await tokens.read()) as Int32Array
  } finally {
    tokens.dispose()
  }
}
