// The synthetic shapes set as the CLI uses it, in this one adapter: which images train, which
// evaluate, and how `tessera eval` judges a generated one.
import { checkShapesImage, enumerateShapesCaptions, makeShapesDataset, type ImageCaptionDataset, type ShapesOptions } from '@tessera/datasets'

/** Training images of `--data shapes` (`shapes:N` asks for N). */
export const SHAPES_TRAIN_COUNT = 16384

/**
 * The compositional set (one or two shapes, sizes named in some captions, relations) on its
 * training split: the held-out combinations stay unseen by every stage of a shapes bundle, so
 * `tessera eval` can ask for them.
 */
const COMPOSITIONAL: Pick<ShapesOptions, 'split' | 'maxShapes' | 'sizeWords'> = { split: 'train', maxShapes: 2, sizeWords: 'some' }

export interface ShapesSplits {
  train: ImageCaptionDataset
  heldOut: ImageCaptionDataset
  description: string
}

/**
 * `count` seeded training images and held-out images (as many as a sixteenth, between 16 and 256)
 * drawn from the same combinations with the next seed: new images, not new combinations. The
 * same options always give the same images.
 */
export function shapesSplits(imageSize: number, seed: number, count = SHAPES_TRAIN_COUNT): ShapesSplits {
  const heldOut = Math.min(256, Math.max(16, Math.ceil(count / 16)))
  return {
    train: makeShapesDataset({ ...COMPOSITIONAL, count, imageSize, seed }),
    heldOut: makeShapesDataset({ ...COMPOSITIONAL, count: heldOut, imageSize, seed: seed + 1 }),
    description: `@tessera/datasets compositional shapes, training split (one or two shapes, sizes, relations; the held-out combinations never shown): ${count} images with seed ${seed}, ${heldOut} more for evaluation with seed ${seed + 1}`,
  }
}

/** What `tessera eval` needs to judge a shapes bundle: prompts of seen and unseen combinations, and a rule that reads an image. */
export interface ShapesJudge {
  /** Every caption of combinations the training split shows ('seen'), or of ones it never shows ('unseen'). */
  captions(kind: 'seen' | 'unseen'): string[]
  /** Whether an image ([3, S, S] planes in [0, 1]) shows exactly what the caption says, and nothing else. */
  accepts(image: { channels: number; height: number; width: number; data: Float32Array }, caption: string): boolean
}

/**
 * The judge of generated shapes images: @tessera/datasets' rule-based checkShapesImage, on the
 * captions of the compositional set's training split ('seen') and of its held-out split
 * ('unseen': a colour + kind pair or an arrangement of kinds no training image shows).
 */
export function shapesJudge(): ShapesJudge {
  const { maxShapes, sizeWords } = COMPOSITIONAL
  return {
    captions: (kind) => enumerateShapesCaptions({ split: kind === 'seen' ? 'train' : 'heldout', maxShapes, sizeWords }),
    accepts: (image, caption) => checkShapesImage(image, caption).ok,
  }
}
