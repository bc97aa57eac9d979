import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'
import { Conv2d } from './conv.js'

/** Bottleneck kernel sizes of conv_1..conv_4: encoder blocks end in a 1×1, decoder blocks start with one. */
export const ENCODER_KERNELS = [3, 3, 3, 1] as const
export const DECODER_KERNELS = [1, 3, 3, 3] as const

/**
 * dall_e's EncoderBlock / DecoderBlock: `id_path(x) + post_gain · res_path(x)` where res_path
 * is (ReLU, conv) × 4 at width n_out/4 and id_path is a 1×1 conv only where the width changes.
 * post_gain = 1/n_layers² keeps the sum of many residual branches near the identity at init.
 */
export class ResBlock extends nn.Module {
  readonly idPath: Conv2d | null
  readonly resPath: ResPath
  readonly postGain: number

  constructor(device: Device, nIn: number, nOut: number, nLayers: number, kernels: readonly number[], rng: nn.HostRandom) {
    super()
    this.postGain = 1 / (nLayers * nLayers)
    // Registration order follows dall_e's attribute order: id_path, then res_path.
    this.idPath = nIn !== nOut ? this.registerModule('id_path', new Conv2d(device, nIn, nOut, 1, rng)) : null
    this.resPath = this.registerModule('res_path', new ResPath(device, nIn, nOut, kernels, rng))
  }

  forward(x: Tensor): Tensor {
    const identity = this.idPath ? this.idPath.forward(x) : x
    return ops.add(identity, ops.mul(this.resPath.forward(x), this.postGain))
  }
}

/** relu_1, conv_1, …, relu_4, conv_4 (the ReLUs hold no parameters, so only conv_k are registered). */
class ResPath extends nn.Module {
  private readonly convs: Conv2d[]

  constructor(device: Device, nIn: number, nOut: number, kernels: readonly number[], rng: nn.HostRandom) {
    super()
    const nHid = nOut / 4
    const widths = [nIn, nHid, nHid, nHid, nOut]
    this.convs = kernels.map((k, i) => this.registerModule(`conv_${i + 1}`, new Conv2d(device, widths[i]!, widths[i + 1]!, k, rng)))
  }

  forward(x: Tensor): Tensor {
    // relu_{k+1} directly follows conv_k, so it rides on that conv (fused at inference).
    let h = ops.relu(x)
    this.convs.forEach((conv, i) => {
      h = conv.forward(h, i < this.convs.length - 1 ? 'relu' : 'none')
    })
    return h
  }
}
