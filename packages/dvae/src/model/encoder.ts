import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'
import { groupWidth, type DvaeConfig } from '../config.js'
import { DvaeInputError } from '../errors.js'
import { Conv2d } from './conv.js'
import { Group, OutputHead } from './group.js'
import { ENCODER_KERNELS } from './res-block.js'

/**
 * dall_e's Encoder: 7×7 input conv, groups of residual blocks at widths nHid·{1, 2, 4, …}
 * with a 2×2 max-pool after every group but the last, then ReLU + 1×1 conv to code logits.
 * Parameter names: blocks.input.{w,b}, blocks.group_G.block_B.{id_path,res_path.conv_K}.{w,b},
 * blocks.output.conv.{w,b}.
 */
export class Encoder extends nn.Module {
  readonly blocks: EncoderBlocks

  constructor(device: Device, readonly config: DvaeConfig, rng: nn.HostRandom) {
    super()
    this.blocks = this.registerModule('blocks', new EncoderBlocks(device, config, rng))
  }

  /** Images mapped to logit-Laplace range, [N, channels, H, W] → code logits [N, vocab, H/f, W/f]. */
  forward(x: Tensor): Tensor {
    const { channels, groupCount } = this.config
    const f = 2 ** (groupCount - 1)
    if (x.rank !== 4 || x.shape[1] !== channels || x.shape[2]! % f !== 0 || x.shape[3]! % f !== 0) {
      throw new DvaeInputError(`encoder input must be [N, ${channels}, H, W] with H and W multiples of ${f}, got [${x.shape.join(', ')}]`)
    }
    if (x.dtype !== 'f32') throw new DvaeInputError(`encoder input must be f32, got ${x.dtype}`)
    return this.blocks.forward(x)
  }
}

class EncoderBlocks extends nn.Module {
  private readonly input: Conv2d
  private readonly groups: Group[] = []
  private readonly output: OutputHead

  constructor(device: Device, config: DvaeConfig, rng: nn.HostRandom) {
    super()
    const nLayers = config.groupCount * config.nBlkPerGroup
    this.input = this.registerModule('input', new Conv2d(device, config.channels, config.nHid, 7, rng))
    for (let g = 1; g <= config.groupCount; g++) {
      const nIn = groupWidth(config, Math.max(1, g - 1))
      const nOut = groupWidth(config, g)
      this.groups.push(this.registerModule(`group_${g}`, new Group(device, nIn, nOut, config.nBlkPerGroup, nLayers, ENCODER_KERNELS, rng)))
    }
    this.output = this.registerModule('output', new OutputHead(device, groupWidth(config, config.groupCount), config.vocabSize, rng))
  }

  forward(x: Tensor): Tensor {
    let h = this.input.forward(x)
    this.groups.forEach((group, i) => {
      h = group.forward(h)
      if (i < this.groups.length - 1) h = ops.maxPool2d(h, { kernel: 2 })
    })
    return this.output.forward(h)
  }
}
