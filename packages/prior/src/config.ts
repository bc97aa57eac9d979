import { MASK_SCHEDULES, type MaskSpec } from '@tessera/plugins'
import { PriorConfigError } from './errors.js'

export interface PriorConfig {
  /** Text vocabulary (ids 0 … textVocabSize−1; `padId` among them marks padding). */
  textVocabSize: number
  /** Image codebook size (the dVAE's vocabulary). */
  imageVocabSize: number
  /** Text tokens per caption (shorter captions are padded with padId). */
  textLength: number
  /** [rows, columns] of the image token grid. */
  gridSize: readonly [number, number]
  width: number
  heads: number
  layers: number
  /**
   * Attention mask of each layer: a list with one entry per layer (a registered mask name, or
   * `{ name, ...options }`), a schedule name ('dalle'), or one mask name for every layer.
   */
  masks: string | readonly MaskSpec[]
  /** Hidden width of the MLP as a multiple of `width` (default 4). */
  ffMult?: number
  /** Text id that means "no token here" (default 0). */
  padId?: number
  /** loss = (textLossWeight·text_ce + imageLossWeight·image_ce) / (sum of both); paper 1 : 7. */
  textLossWeight?: number
  imageLossWeight?: number
  /** Dropout on attention outputs and residual branches while training (default 0). */
  dropout?: number
  /** Seed of the weight initialisation (default 0). */
  seed?: number
}

export type ResolvedPriorConfig = Required<Omit<PriorConfig, 'masks'>> & { masks: MaskSpec[] }

const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0

/** Fills defaults, expands mask schedules and checks every size; PriorConfigError says what is wrong. */
export function resolvePriorConfig(config: PriorConfig): ResolvedPriorConfig {
  const c = { ffMult: 4, padId: 0, textLossWeight: 1, imageLossWeight: 7, dropout: 0, seed: 0, ...config }
  for (const key of ['textVocabSize', 'imageVocabSize', 'textLength', 'width', 'heads', 'layers', 'ffMult'] as const) {
    if (!positiveInt(c[key])) throw new PriorConfigError(`prior config: ${key} must be a positive integer, got ${String(c[key])}`)
  }
  const [rows, cols] = c.gridSize ?? []
  if (!positiveInt(rows) || !positiveInt(cols)) throw new PriorConfigError(`prior config: gridSize must be [rows, columns] of positive integers, got ${JSON.stringify(c.gridSize)}`)
  if (c.width % c.heads !== 0) throw new PriorConfigError(`prior config: width ${c.width} is not divisible by heads ${c.heads}`)
  if (!Number.isInteger(c.padId) || c.padId < 0 || c.padId >= c.textVocabSize) throw new PriorConfigError(`prior config: padId must be a text id in [0, ${c.textVocabSize}), got ${c.padId}`)
  if (!(c.textLossWeight >= 0 && c.imageLossWeight >= 0 && c.textLossWeight + c.imageLossWeight > 0)) {
    throw new PriorConfigError(`prior config: loss weights must be >= 0 and not both 0, got ${c.textLossWeight} and ${c.imageLossWeight}`)
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new PriorConfigError(`prior config: dropout must be in [0, 1), got ${c.dropout}`)
  return { ...c, gridSize: [rows!, cols!], masks: expandMasks(c.masks, c.layers) }
}

function expandMasks(masks: PriorConfig['masks'], layers: number): MaskSpec[] {
  if (typeof masks === 'string') return MASK_SCHEDULES[masks]?.(layers) ?? Array.from({ length: layers }, () => masks)
  if (!Array.isArray(masks) || masks.length !== layers) {
    throw new PriorConfigError(`prior config: masks needs one entry per layer (${layers}), a schedule name (${Object.keys(MASK_SCHEDULES).join(', ')}) or one mask name; got ${JSON.stringify(masks)}`)
  }
  return [...masks]
}

/** Tokens in a sequence: text then image grid. */
export const sequenceLength = (c: Pick<ResolvedPriorConfig, 'textLength' | 'gridSize'>): number => c.textLength + c.gridSize[0] * c.gridSize[1]
