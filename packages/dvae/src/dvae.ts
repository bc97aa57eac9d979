import { inSlices, nn, noGrad, ops, tidy, type Device, type Tensor } from '@tessera/tensor-core'
import { preset, resolveConfig, tokenGridSize, type DvaeConfig } from './config.js'
import { DvaeInputError } from './errors.js'
import { Decoder } from './model/decoder.js'
import { Encoder } from './model/encoder.js'
import { mapPixels, unmapPixels } from './pixels.js'
import { searchTokens, type TokenSearchOptions } from './token-search.js'

export interface EncodeOptions {
  /**
   * Choose tokens by searching the decoder's reconstructions instead of taking the encoder's
   * argmax (`true` for the defaults): slower by the decodes it runs, closer to the image. See
   * searchTokens.
   */
  search?: boolean | TokenSearchOptions
}

export interface CreateOptions {
  /** Seed of the host generator that initialises the weights (default 0). */
  seed?: number
}

/**
 * The discrete VAE: an Encoder and a Decoder registered as `encoder` and `decoder`, so one
 * state dict (checkpoints) holds both, while each half's own state dict has exactly the
 * names of OpenAI's encoder.pkl / decoder.pkl.
 */
export class DiscreteVAE extends nn.Module {
  readonly encoder: Encoder
  readonly decoder: Decoder
  readonly config: DvaeConfig

  constructor(
    readonly device: Device,
    config: Partial<DvaeConfig> | string = {},
    opts: CreateOptions = {},
  ) {
    super()
    this.config = typeof config === 'string' ? preset(config) : resolveConfig(config)
    const rng = new nn.HostRandom(opts.seed ?? 0)
    this.encoder = this.registerModule('encoder', new Encoder(device, this.config, rng))
    this.decoder = this.registerModule('decoder', new Decoder(device, this.config, rng))
  }

  /** Side of the token grid for the configured image size. */
  get gridSize(): number {
    return tokenGridSize(this.config)
  }

  /**
   * Images in [0, 1], [N, C, H, W] → code logits [N, vocab, H/f, W/f]. Like encode and decode
   * this is inference: nothing is recorded for autograd (training goes through dvaeObjective).
   */
  logits(images: Tensor): Tensor {
    return noGrad(() => tidy(() => inSlices(images, (x) => this.encoder.forward(mapPixels(x)), { key: this.encoder })))
  }

  /**
   * Images in [0, 1] → tokens, i32 [N, H/f, W/f]: the argmax code per position, or with
   * `search` the codes whose decoded image is closest to the input (never further than the argmax's).
   */
  encode(images: Tensor, opts: EncodeOptions = {}): Tensor {
    const search = opts.search === true ? {} : opts.search
    return tidy(() => {
      const logits = this.logits(images)
      return search ? searchTokens(images, logits, (tokens) => this.decode(tokens), search) : ops.argmax(logits, 1)
    })
  }

  /** Tokens, i32 [N, h, w] → the decoder's raw output [N, 2·C, H, W] (logit-Laplace μ then log b). */
  decodeStats(tokens: Tensor): Tensor {
    return noGrad(() => tidy(() => inSlices(tokens, (t) => this.decoder.forwardTokens(t), { key: this.decoder })))
  }

  /** Tokens, i32 [N, h, w] → images in [0, 1], [N, C, H, W]: unmap(sigmoid(μ)). */
  decode(tokens: Tensor): Tensor {
    return tidy(() => statsToImages(this.decodeStats(tokens), this.config.channels))
  }

  /** A host token array as a tensor, checked: shape [N, h, w] and every id in [0, vocab). */
  tokens(data: Int32Array | readonly number[], shape: readonly [number, number, number]): Tensor {
    const vocab = this.config.vocabSize
    for (let i = 0; i < data.length; i++) {
      const t = data[i]!
      if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new DvaeInputError(`token ${t} at index ${i} is outside the codebook [0, ${vocab})`)
    }
    if (data.length !== shape[0] * shape[1] * shape[2]) throw new DvaeInputError(`${data.length} tokens do not fill [${shape.join(', ')}]`)
    return this.device.tensor(Int32Array.from(data), [...shape])
  }
}

/** One-hot code rows, channels-last: i32 [N, h, w] → f32 [N, h, w, vocab] (out-of-range ids give zero rows). */
export function oneHotCodes(tokens: Tensor, vocabSize: number): Tensor {
  return ops.oneHot(tokens, vocabSize)
}

/** Decoder output [N, 2·C, H, W] → images in [0, 1]: unmap(sigmoid(μ)). */
export function statsToImages(stats: Tensor, channels: number): Tensor {
  return tidy(() => unmapPixels(ops.sigmoid(ops.slice(stats, [undefined, { start: 0, end: channels }]))))
}
