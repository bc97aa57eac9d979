import { formatShapesCaption, type ShapeDescription, type ShapesCaption } from './grammar.js'
import { resolveSceneOptions, type ShapesSceneOptions } from './scenes.js'
import { shapesSplitOf } from './split.js'
import { SHAPE_COLOUR_NAMES, SHAPE_KINDS, SHAPE_RELATIONS, SHAPE_SIZES } from './vocabulary.js'

export type ShapesCaptionSetOptions = Pick<ShapesSceneOptions, 'split' | 'minShapes' | 'maxShapes' | 'sizeWords'>

/**
 * Every caption the dataset with these options can produce, in a fixed order (one-shape
 * captions first; then by first shape, relation, second shape): the prompts to generate from
 * when evaluating a model on a split, e.g. every held-out caption. With sizeWords 'some' a shape
 * appears unsized, small and large. How many: 28, 56 or 84 one-shape captions (sizeWords never,
 * always, some) and 4 relations × that number squared two-shape ones (up to 28,224), before the
 * split takes its part.
 */
export function enumerateShapesCaptions(opts: ShapesCaptionSetOptions = {}): string[] {
  const o = resolveSceneOptions({ ...opts, count: 1 })
  const sizes = o.sizeWords === 'never' ? [undefined] : o.sizeWords === 'always' ? [...SHAPE_SIZES] : [undefined, ...SHAPE_SIZES]
  const shapes: ShapeDescription[] = []
  for (const size of sizes) {
    for (const colour of SHAPE_COLOUR_NAMES) {
      for (const kind of SHAPE_KINDS) shapes.push(size ? { kind, colour, size } : { kind, colour })
    }
  }
  const captions: ShapesCaption[] = []
  if (o.minShapes === 1) for (const s of shapes) captions.push({ shapes: [s] })
  if (o.maxShapes === 2) {
    for (const a of shapes) {
      for (const relation of SHAPE_RELATIONS) {
        for (const b of shapes) captions.push({ shapes: [a, b], relation })
      }
    }
  }
  return captions.filter((c) => o.split === 'all' || shapesSplitOf(c) === o.split).map(formatShapesCaption)
}
