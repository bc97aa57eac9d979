import { noGrad, ops, tidy, type Tensor } from '@tessera/tensor-core'
import type { CLIP } from './clip.js'
import type { ResolvedClipConfig } from './config.js'
import { ClipInputError } from './errors.js'

/**
 * Bytes of the largest tensor one image's pass through the image tower makes (f32): the MLP's
 * hidden [L, 4W], the stacked q/k/v [3, L, W], the attention scores [H, L, L], the input.
 */
export function peakImageBytes(config: ResolvedClipConfig): number {
  const l = (config.imageResolution / config.visionPatchSize) ** 2 + 1
  const w = config.visionWidth
  return 4 * Math.max(l * 4 * w, 3 * l * w, config.visionHeads * l * l, 3 * config.imageResolution ** 2)
}

/** Images per slice so that no tensor of the image tower outgrows Device.maxTensorBytes (with a quarter's margin). */
export function imageBatchLimit(model: CLIP): number {
  const limit = model.device.maxTensorBytes
  return Number.isFinite(limit) ? Math.max(1, Math.floor(limit / (1.25 * peakImageBytes(model.config)))) : Number.MAX_SAFE_INTEGER
}

/**
 * Image features [N, embedDim] of normalised images [N, 3, R, R] given on the host, encoded in
 * slices of at most `batchSize` (default: what fits the device's limits; see imageBatchLimit),
 * without recording gradients. The result is one device tensor the caller owns.
 */
export function encodeImagesBatched(model: CLIP, images: Float32Array, opts: { batchSize?: number } = {}): Tensor {
  const r = model.config.imageResolution
  const per = 3 * r * r
  if (images.length % per) throw new ClipInputError(`${images.length} values are not whole [3, ${r}, ${r}] images`)
  const n = images.length / per
  const batch = Math.max(1, Math.min(opts.batchSize ?? Infinity, imageBatchLimit(model)))
  return noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = []
      for (let start = 0; start < n; start += batch) {
        const count = Math.min(batch, n - start)
        parts.push(model.encodeImage(model.device.tensor(images.subarray(start * per, (start + count) * per), [count, 3, r, r])))
      }
      return parts.length === 1 ? parts[0]! : ops.concat(parts, 0)
    }),
  )
}

/** Text features [N, embedDim] of token rows given on the host ([N·L] i32), in slices of `batchSize` (default 256). */
export function encodeTextsBatched(model: CLIP, tokens: Int32Array, opts: { batchSize?: number } = {}): Tensor {
  const l = model.config.contextLength
  const n = tokens.length / l
  const batch = opts.batchSize ?? 256
  return noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = []
      for (let start = 0; start < n; start += batch) {
        const count = Math.min(batch, n - start)
        parts.push(model.encodeText(model.device.tensor(tokens.subarray(start * l, (start + count) * l), [count, l])))
      }
      return parts.length === 1 ? parts[0]! : ops.concat(parts, 0)
    }),
  )
}
