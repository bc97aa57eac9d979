import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'
import { Conv2d } from './conv.js'
import { ResBlock } from './res-block.js'

/** `group_G`: block_1 … block_B at one resolution (the pool/upsample between groups holds no parameters). */
export class Group extends nn.Module {
  private readonly blocks: ResBlock[] = []

  constructor(device: Device, nIn: number, nOut: number, count: number, nLayers: number, kernels: readonly number[], rng: nn.HostRandom) {
    super()
    for (let b = 1; b <= count; b++) {
      this.blocks.push(this.registerModule(`block_${b}`, new ResBlock(device, b === 1 ? nIn : nOut, nOut, nLayers, kernels, rng)))
    }
  }

  forward(x: Tensor): Tensor {
    return this.blocks.reduce((h, block) => block.forward(h), x)
  }
}

/** `output`: relu, then conv (named as dall_e's Sequential). */
export class OutputHead extends nn.Module {
  private readonly conv: Conv2d

  constructor(device: Device, nIn: number, nOut: number, rng: nn.HostRandom) {
    super()
    this.conv = this.registerModule('conv', new Conv2d(device, nIn, nOut, 1, rng))
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(ops.relu(x))
  }
}
