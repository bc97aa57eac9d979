import type { Device } from '../device.js'
import { conv2d } from '../ops/conv.js'
import { embedding } from '../ops/embedding.js'
import { dropout } from '../ops/random.js'
import { linear } from '../ops/matmul.js'
import { layerNorm } from '../ops/normalize.js'
import type { Activation } from '../kernels/matmul.js'
import type { Tensor } from '../tensor.js'
import { biasUniform, getDefaultRandom, kaimingUniform, normal, type HostRandom } from './init.js'
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

/** torch.nn.Conv2d (NCHW; `weight` [out, in, k, k], `bias` [out]; PyTorch's init). */
export class Conv2d extends Module {
  readonly weight: Tensor
  readonly bias: Tensor | null

  constructor(
    device: Device,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: LayerInitOptions & { stride?: number; padding?: number; bias?: boolean } = {},
  ) {
    super()
    const rng = opts.rng ?? getDefaultRandom()
    const shape = [outChannels, inChannels, kernelSize, kernelSize]
    this.weight = this.registerParameter('weight', device.tensor(kaimingUniform(shape, rng), shape))
    this.bias = opts.bias === false ? null : this.registerParameter('bias', device.tensor(biasUniform(outChannels, inChannels * kernelSize * kernelSize, rng), [outChannels]))
  }

  forward(x: Tensor, activation: Activation = 'none'): Tensor {
    return conv2d(x, this.weight, { bias: this.bias ?? undefined, stride: this.opts.stride, padding: this.opts.padding, activation })
  }
}

/** torch.nn.Embedding: `weight` [num, dim] from N(0, 1). */
export class Embedding extends Module {
  readonly weight: Tensor

  constructor(
    device: Device,
    readonly numEmbeddings: number,
    readonly dim: number,
    opts: LayerInitOptions & { std?: number } = {},
  ) {
    super()
    this.weight = this.registerParameter('weight', device.tensor(normal(numEmbeddings * dim, 0, opts.std ?? 1, opts.rng ?? getDefaultRandom()), [numEmbeddings, dim]))
  }

  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight)
  }
}

/** Inverted dropout while training; identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super()
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training })
  }
}
