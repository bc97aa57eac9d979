import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'
import type { ResolvedClipConfig } from '../config.js'
import { Transformer } from './transformer.js'

/**
 * OpenAI's VisionTransformer: patches by a strided convolution without bias (`conv1`), a
 * class token (`class_embedding`) in front, `positional_embedding`, `ln_pre`, the transformer,
 * `ln_post` of the class token's output, then `proj` [width, embedDim].
 */
export class VisionTransformer extends nn.Module {
  readonly conv1: nn.Conv2d
  readonly classEmbedding: Tensor
  readonly positionalEmbedding: Tensor
  readonly lnPre: nn.LayerNorm
  readonly transformer: Transformer
  readonly lnPost: nn.LayerNorm
  readonly proj: Tensor

  constructor(
    device: Device,
    readonly config: ResolvedClipConfig,
    rng: nn.HostRandom,
  ) {
    super()
    const { visionWidth: w, visionPatchSize: p, imageResolution: r, embedDim } = config
    const scale = w ** -0.5
    const tokens = (r / p) ** 2 + 1
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(device, 3, w, p, { stride: p, bias: false, rng }))
    this.classEmbedding = this.registerParameter('class_embedding', device.tensor(nn.init.normal(w, 0, scale, rng), [w]))
    this.positionalEmbedding = this.registerParameter('positional_embedding', device.tensor(nn.init.normal(tokens * w, 0, scale, rng), [tokens, w]))
    this.lnPre = this.registerModule('ln_pre', new nn.LayerNorm(device, w))
    this.transformer = this.registerModule('transformer', new Transformer(device, w, config.visionLayers, config.visionHeads, rng))
    this.lnPost = this.registerModule('ln_post', new nn.LayerNorm(device, w))
    this.proj = this.registerParameter('proj', device.tensor(nn.init.normal(w * embedDim, 0, scale, rng), [w, embedDim]))
  }

  /** Normalised images [N, 3, R, R] → features [N, embedDim]. */
  forward(images: Tensor): Tensor {
    const n = images.shape[0]!
    const w = this.config.visionWidth
    const patches = this.conv1.forward(images) // [N, W, g, g]
    const grid = patches.shape[2]! * patches.shape[3]!
    const seq = ops.permute(ops.reshape(patches, [n, w, grid]), [0, 2, 1]) // [N, g·g, W]
    const cls = ops.broadcastTo(ops.reshape(this.classEmbedding, [1, 1, w]), [n, 1, w])
    const x = this.lnPre.forward(ops.add(ops.concat([cls, seq], 1), this.positionalEmbedding))
    const h = this.transformer.forward(x)
    const first = ops.reshape(ops.slice(h, [undefined, { start: 0, end: 1 }]), [n, w])
    return ops.matmul(this.lnPost.forward(first), this.proj)
  }
}
