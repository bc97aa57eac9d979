import type { Device } from '../device.js'
import { linear } from '../ops/matmul.js'
import { layerNorm } from '../ops/normalize.js'
import type { Activation } from '../kernels/matmul.js'
import type { Tensor } from '../tensor.js'
import { biasUniform, getDefaultRandom, kaimingUniform, type HostRandom } from './init.js'
import { Module } from './module.js'

export interface LayerInitOptions {
  rng?: HostRandom
}

/** y = x·Wᵀ + b, W [out, in] (torch.nn.Linear names: `weight`, `bias`; PyTorch's init). */
export class Linear extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null

  constructor(
    device: Device,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LayerInitOptions & { bias?: boolean } = {},
  ) {
    super()
    const rng = opts.rng ?? getDefaultRandom()
    this.weight = this.registerParameter('weight', device.tensor(kaimingUniform([outFeatures, inFeatures], rng), [outFeatures, inFeatures]))
    this.bias = opts.bias === false ? null : this.registerParameter('bias', device.tensor(biasUniform(outFeatures, inFeatures, rng), [outFeatures]))
  }

  forward(x: Tensor, activation: Activation = 'none'): Tensor {
    return linear(x, this.weight, this.bias ?? undefined, activation)
  }
}

/** torch.nn.LayerNorm over the last dim (`weight` = 1, `bias` = 0 initially). */
export class LayerNorm extends Module {
  readonly weight: Tensor
  readonly bias: Tensor

  constructor(
    device: Device,
    readonly features: number,
    readonly eps = 1e-5,
  ) {
    super()
    this.weight = this.registerParameter('weight', device.tensor(new Float32Array(features).fill(1), [features]))
    this.bias = this.registerParameter('bias', device.tensor(new Float32Array(features), [features]))
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, { weight: this.weight, bias: this.bias, eps: this.eps })
  }
}
