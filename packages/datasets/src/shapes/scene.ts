import type { ShapesCaption } from './grammar.js'
import type { Point } from './relation.js'
import type { ShapeColour, ShapeKind, ShapeSize } from './vocabulary.js'

/** A box in image-side units (0 to 1 across the image; y grows downwards). */
export interface Box {
  left: number
  top: number
  right: number
  bottom: number
}

/** One shape as drawn: its words, its size class whether or not the caption names it, and where it is. */
export interface PlacedShape {
  kind: ShapeKind
  colour: ShapeColour
  size: ShapeSize
  /** Whether the caption says the size. */
  sizeNamed: boolean
  /** The longer side of the bounding box, in image-side units. */
  extent: number
  /** The centre of the bounding box. */
  centre: Point
  box: Box
}

/**
 * One image's structured truth: its caption, what the caption says (`description`), and the
 * shapes as placed, in the caption's order (`shapes[0]` is the caption's first shape).
 */
export interface ShapesScene {
  caption: string
  description: ShapesCaption
  shapes: PlacedShape[]
}
