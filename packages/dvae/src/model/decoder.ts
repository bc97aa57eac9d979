import { nn, ops, type Device, type Tensor } from '@tessera/tensor-core'
import { groupWidth, type DvaeConfig } from '../config.js'
import { DvaeInputError } from '../errors.js'
import { Conv2d } from './conv.js'
import { Group, OutputHead } from './group.js'
import { DECODER_KERNELS } from './res-block.js'

/**
 * dall_e's Decoder: 1×1 conv from codes (vocab → nInit), groups mirroring the encoder at
 * widths nHid·{…, 4, 2, 1} with nearest 2× upsampling after every group but the last, then
 * ReLU + 1×1 conv to 2·channels outputs: per channel the logit-Laplace μ, then log b.
 */
export class Decoder extends nn.Module {
  readonly blocks: DecoderBlocks

  constructor(device: Device, readonly config: DvaeConfig, rng: nn.HostRandom) {
    super()
    this.blocks = this.registerModule('blocks', new DecoderBlocks(device, config, rng))
  }

  /**
   * Code distributions channels-last, [N, h, w, vocab] (one-hot rows for hard tokens, a
   * relaxed sample in training) → [N, 2·channels, h·f, w·f]. Channels-last because the
   * softmax over codes produces it; dall_e takes the same values as [N, vocab, h, w].
   */
  forward(codes: Tensor): Tensor {
    const { vocabSize } = this.config
    if (codes.rank !== 4 || codes.shape[3] !== vocabSize) {
      throw new DvaeInputError(`decoder input must be code distributions [N, h, w, ${vocabSize}], got [${codes.shape.join(', ')}]`)
    }
    return this.blocks.forward(codes)
  }

  /**
   * Hard tokens, i32 [N, h, w] → [N, 2·channels, h·f, w·f]; equal to `forward` of their
   * one-hot rows. Ids outside the codebook throw on the CPU backend and give the bias alone
   * on WebGPU (see `ops.embedding`).
   */
  forwardTokens(tokens: Tensor): Tensor {
    if (tokens.rank !== 3 || tokens.dtype !== 'i32') throw new DvaeInputError(`decode expects tokens as i32 [N, h, w], got ${tokens.dtype} [${tokens.shape.join(', ')}]`)
    return this.blocks.forwardTokens(tokens)
  }
}

class DecoderBlocks extends nn.Module {
  private readonly input: Conv2d
  private readonly groups: Group[] = []
  private readonly output: OutputHead

  constructor(device: Device, config: DvaeConfig, rng: nn.HostRandom) {
    super()
    const G = config.groupCount
    const nLayers = G * config.nBlkPerGroup
    this.input = this.registerModule('input', new Conv2d(device, config.vocabSize, config.nInit, 1, rng))
    for (let g = 1; g <= G; g++) {
      const nIn = g === 1 ? config.nInit : groupWidth(config, G - g + 2)
      const nOut = groupWidth(config, G - g + 1)
      this.groups.push(this.registerModule(`group_${g}`, new Group(device, nIn, nOut, config.nBlkPerGroup, nLayers, DECODER_KERNELS, rng)))
    }
    this.output = this.registerModule('output', new OutputHead(device, config.nHid, 2 * config.channels, rng))
  }

  forward(codes: Tensor): Tensor {
    const [n, h, w, vocab] = codes.shape as [number, number, number, number]
    const nInit = this.input.nOut
    // The input 1×1 conv as a matmul over channels-last rows: no [N, vocab, h, w] transpose.
    const rows = ops.linear(ops.reshape(codes, [n * h * w, vocab]), ops.reshape(this.input.w, [nInit, vocab]), this.input.b)
    return this.trunk(ops.reshape(rows, [n, h, w, nInit]))
  }

  /**
   * The input conv of a one-hot row is its token's column of the weight (plus the bias): a
   * gather, where the matmul would spend vocab multiply-adds per output (8,192 for OpenAI's
   * decoder, 2 GFLOP per 256² image).
   */
  forwardTokens(tokens: Tensor): Tensor {
    const [n, h, w] = tokens.shape as [number, number, number]
    const nInit = this.input.nOut
    const table = ops.transpose(ops.reshape(this.input.w, [nInit, this.input.nIn]))
    const rows = ops.add(ops.embedding(ops.reshape(tokens, [n * h * w]), table), this.input.b)
    return this.trunk(ops.reshape(rows, [n, h, w, nInit]))
  }

  /** Input-conv output channels-last [N, h, w, nInit] → the decoder output. */
  private trunk(channelsLast: Tensor): Tensor {
    let x = ops.permute(channelsLast, [0, 3, 1, 2])
    this.groups.forEach((group, i) => {
      x = group.forward(x)
      if (i < this.groups.length - 1) x = ops.upsampleNearest2d(x, 2)
    })
    return this.output.forward(x)
  }
}
