import { DvaeConfigError } from './errors.js'

/**
 * Sizes of a dVAE in OpenAI's layout. Names follow dall_e's Encoder/Decoder attributes
 * (camelCased); the defaults are OpenAI's released model.
 */
export interface DvaeConfig {
  /** Resolution groups; 2× max-pool (encoder) / upsample (decoder) between consecutive ones. OpenAI: 4. */
  groupCount: number
  /** Width of the first encoder group (last decoder group); group g has nHid·2^(g−1). OpenAI: 256. */
  nHid: number
  /** Residual blocks per group. OpenAI: 2. */
  nBlkPerGroup: number
  /** Image channels in; the decoder predicts 2× this many (logit-Laplace μ and log b). OpenAI: 3. */
  channels: number
  /** Codebook size. OpenAI: 8192. */
  vocabSize: number
  /** Width the decoder's input 1×1 conv maps the one-hot codes to. OpenAI: 128. */
  nInit: number
  /** Side of the square images the model is meant for (the layers work at any multiple of 2^(groupCount−1)). OpenAI: 256. */
  imageSize: number
}

export const OPENAI_CONFIG: Readonly<DvaeConfig> = Object.freeze({
  groupCount: 4,
  nHid: 256,
  nBlkPerGroup: 2,
  channels: 3,
  vocabSize: 8192,
  nInit: 128,
  imageSize: 256,
})

/**
 * Named configurations. `emoji-32` is what models/emoji-32 is trained with: 32×32 → 8×8
 * tokens (three groups), 512 codes, 93 k parameters. `emoji-32-large` is models/emoji-32-large:
 * the same grid at 4× the width, two blocks per group and 2,048 codes (2.07 M parameters), for
 * closer reconstructions. `mid` is a mid-size model for benchmarks; `tiny` is the PyTorch parity
 * fixture's (OpenAI's four groups at minimal width).
 */
export const PRESETS = {
  openai: OPENAI_CONFIG,
  'emoji-32': Object.freeze({ groupCount: 3, nHid: 16, nBlkPerGroup: 1, channels: 3, vocabSize: 512, nInit: 32, imageSize: 32 }),
  'emoji-32-large': Object.freeze({ groupCount: 3, nHid: 64, nBlkPerGroup: 2, channels: 3, vocabSize: 2048, nInit: 128, imageSize: 32 }),
  mid: Object.freeze({ groupCount: 4, nHid: 32, nBlkPerGroup: 2, channels: 3, vocabSize: 1024, nInit: 64, imageSize: 64 }),
  tiny: Object.freeze({ groupCount: 4, nHid: 16, nBlkPerGroup: 1, channels: 3, vocabSize: 64, nInit: 16, imageSize: 32 }),
} satisfies Record<string, Readonly<DvaeConfig>>

export type PresetName = keyof typeof PRESETS

/** A preset by name; unknown names list the known ones. */
export function preset(name: string): DvaeConfig {
  const found = (PRESETS as Record<string, Readonly<DvaeConfig>>)[name]
  if (!found) throw new DvaeConfigError(`unknown dVAE preset '${name}': known presets are ${Object.keys(PRESETS).join(', ')}`)
  return { ...found }
}

/** Fills defaults (OpenAI's) and checks every size; throws DvaeConfigError naming the field. */
export function resolveConfig(partial: Partial<DvaeConfig> = {}): DvaeConfig {
  const config = { ...OPENAI_CONFIG, ...partial }
  for (const [key, value] of Object.entries(config)) {
    if (!Number.isInteger(value) || value < 1) throw new DvaeConfigError(`dVAE config ${key} must be a positive integer, got ${value}`)
  }
  // Each block's bottleneck is a quarter of its output width (dall_e asserts n_out % 4 == 0).
  if (config.nHid % 4 !== 0) throw new DvaeConfigError(`dVAE config nHid must be a multiple of 4 (bottleneck width nHid/4), got ${config.nHid}`)
  const factor = 2 ** (config.groupCount - 1)
  if (config.imageSize % factor !== 0) {
    throw new DvaeConfigError(`dVAE config imageSize ${config.imageSize} must be a multiple of 2^(groupCount−1) = ${factor}`)
  }
  return config
}

/** Side of the token grid for images of `imageSize` (OpenAI: 256 → 32). */
export function tokenGridSize(config: DvaeConfig, imageSize = config.imageSize): number {
  return imageSize / 2 ** (config.groupCount - 1)
}

/** Width of group g (1-based) on the encoder side: nHid·2^(g−1). */
export function groupWidth(config: DvaeConfig, g: number): number {
  return config.nHid * 2 ** (g - 1)
}
