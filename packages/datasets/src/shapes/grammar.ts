import { DatasetError } from '../errors.js'
import {
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
  SHAPE_RELATIONS,
  SHAPE_SIZES,
  type ShapeColour,
  type ShapeKind,
  type ShapeRelation,
  type ShapeSize,
} from './vocabulary.js'

/** One shape as a caption names it; `size` is absent when the caption does not say it. */
export interface ShapeDescription {
  kind: ShapeKind
  colour: ShapeColour
  size?: ShapeSize
}

/**
 * What a caption says, structured: one shape, or two and where the first one is relative to
 * the second ("a red circle above a blue square": the circle is above the square).
 */
export type ShapesCaption =
  | { shapes: [ShapeDescription]; relation?: undefined }
  | { shapes: [ShapeDescription, ShapeDescription]; relation: ShapeRelation }

/** A caption outside the shapes grammar; `word` is the 0-based index of the first word that does not fit. */
export class ShapesCaptionError extends DatasetError {
  static override readonly code: string = 'shapes_caption'
  constructor(
    readonly caption: string,
    readonly word: number,
    detail: string,
  ) {
    super(`caption "${caption}" is not in the shapes grammar: ${detail}. The grammar: "a [small|large] <colour> <kind>" optionally followed by " <above|below|left of|right of> a [small|large] <colour> <kind>"; colours ${SHAPE_COLOUR_NAMES.join(', ')}; kinds ${SHAPE_KINDS.join(', ')}`)
  }
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a')

function formatShape(shape: ShapeDescription): string {
  const words = shape.size ? [shape.size, shape.colour, shape.kind] : [shape.colour, shape.kind]
  return `${article(words[0]!)} ${words.join(' ')}`
}

/** The caption for a description: "a small red circle above an orange star". */
export function formatShapesCaption(caption: ShapesCaption): string {
  const first = formatShape(caption.shapes[0])
  return caption.shapes.length === 1 ? first : `${first} ${caption.relation} ${formatShape(caption.shapes[1])}`
}

/**
 * Parses a caption of the grammar back into its description. Case, repeated spaces and a final
 * full stop are forgiven, and "a"/"an" are both accepted before any word (generated text may
 * get the article wrong without meaning something else); anything else outside the grammar
 * throws ShapesCaptionError naming the first word that does not fit and what was expected.
 */
export function parseShapesCaption(text: string): ShapesCaption {
  const words = text.trim().toLowerCase().replace(/\.$/, '').split(/\s+/).filter((w) => w !== '')
  let at = 0
  const fail = (expected: string): never => {
    throw new ShapesCaptionError(text, at, at < words.length ? `expected ${expected} at word ${at + 1}, got "${words[at]}"` : `expected ${expected} after the last word`)
  }
  const take = <T extends string>(options: readonly T[], what: string): T => {
    const word = words[at]
    if (word === undefined || !(options as readonly string[]).includes(word)) fail(what)
    at++
    return word as T
  }
  const shape = (): ShapeDescription => {
    take(['a', 'an'], '"a" or "an"')
    const size = (SHAPE_SIZES as readonly string[]).includes(words[at] ?? '') ? take(SHAPE_SIZES, 'a size') : undefined
    const colour = take(SHAPE_COLOUR_NAMES, `a colour (${SHAPE_COLOUR_NAMES.join(', ')})`)
    const kind = take(SHAPE_KINDS, `a kind (${SHAPE_KINDS.join(', ')})`)
    return size ? { kind, colour, size } : { kind, colour }
  }
  const first = shape()
  if (at === words.length) return { shapes: [first] }
  let relation: ShapeRelation
  if (words[at] === 'above' || words[at] === 'below') relation = take(['above', 'below'], 'a relation')
  else {
    take(['left', 'right'], `a relation (${SHAPE_RELATIONS.join(', ')}) or the end`)
    take(['of'], '"of"')
    relation = `${words[at - 2]} of` as ShapeRelation
  }
  const second = shape()
  if (at !== words.length) fail('the end of the caption')
  return { shapes: [first, second], relation }
}
