import type { ShapesCaption } from './grammar.js'
import type { ShapeColour, ShapeKind, ShapeRelation } from './vocabulary.js'

/**
 * The combinations the training split never shows, so a model's held-out samples test
 * composition rather than memory. Each part is seen in training: every colour and every kind
 * appears with others, each held-out kind appears above, below, left and right of other kinds.
 *
 * Colour + kind: one pair per colour for four colours, one per kind, so no word loses more than
 * a quarter of its pairs.
 */
export const HELD_OUT_COLOUR_KINDS: readonly (readonly [ShapeColour, ShapeKind])[] = [
  ['purple', 'star'],
  ['orange', 'circle'],
  ['green', 'triangle'],
  ['black', 'square'],
]

/**
 * Kind + relation + kind, as arrangements: "a circle above a square" and "a square below a
 * circle" describe the same picture, so both phrasings are held out together. Two vertical and
 * two horizontal arrangements; each kind is first in one and second in another.
 */
export const HELD_OUT_ARRANGEMENTS: readonly { first: ShapeKind; relation: 'above' | 'left of'; second: ShapeKind }[] = [
  { first: 'circle', relation: 'above', second: 'square' },
  { first: 'triangle', relation: 'above', second: 'star' },
  { first: 'star', relation: 'left of', second: 'circle' },
  { first: 'square', relation: 'left of', second: 'triangle' },
]

const INVERSE: Readonly<Record<ShapeRelation, ShapeRelation>> = { above: 'below', below: 'above', 'left of': 'right of', 'right of': 'left of' }

/** Which held-out combinations a caption contains, in words ("purple star", "circle above square"); empty for training captions. */
export function heldOutCombinations(caption: ShapesCaption): string[] {
  const found: string[] = []
  for (const shape of caption.shapes) {
    if (HELD_OUT_COLOUR_KINDS.some(([colour, kind]) => colour === shape.colour && kind === shape.kind)) found.push(`${shape.colour} ${shape.kind}`)
  }
  if (caption.shapes.length === 2) {
    const [a, b] = caption.shapes
    for (const held of HELD_OUT_ARRANGEMENTS) {
      const direct = a.kind === held.first && b.kind === held.second && caption.relation === held.relation
      const inverse = a.kind === held.second && b.kind === held.first && caption.relation === INVERSE[held.relation]
      if (direct || inverse) found.push(`${held.first} ${held.relation} ${held.second}`)
    }
  }
  return found
}

/** 'heldout' when the caption contains any held-out combination, else 'train'. */
export function shapesSplitOf(caption: ShapesCaption): 'train' | 'heldout' {
  return heldOutCombinations(caption).length > 0 ? 'heldout' : 'train'
}
