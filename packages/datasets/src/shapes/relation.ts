import type { ShapeRelation } from './vocabulary.js'

/** A point in image-side units: (0, 0) is the top-left corner, (1, 1) the bottom-right; y grows downwards. */
export interface Point {
  x: number
  y: number
}

/**
 * When "A above B" is the natural reading, from the centres of the two shapes' bounding boxes:
 * A's centre is higher than B's, and the offset between them points within atan(ratio) of
 * straight up: |dx| ≤ ratio·|dy|. The same for below and left/right with the axes swapped.
 *
 * The generator places shapes within ratio 0.35 (≤ 19° off the axis, and each centre within the
 * other shape's span across the axis, see layout.ts); the checker accepts up to 0.5 (≤ 27°),
 * so a slightly shifted reconstruction still reads the same, while a diagonal pair (45°),
 * which could be read either way, is neither.
 */
export const GENERATED_MAX_CROSS_RATIO = 0.35
export const CHECKED_MAX_CROSS_RATIO = 0.5

/** The relation of `first` to `second` ("first is above second"), or null when no relation is clear. */
export function relationBetween(first: Point, second: Point, maxCrossRatio = CHECKED_MAX_CROSS_RATIO): ShapeRelation | null {
  const dx = second.x - first.x
  const dy = second.y - first.y
  if (Math.abs(dx) <= maxCrossRatio * Math.abs(dy) && dy !== 0) return dy > 0 ? 'above' : 'below'
  if (Math.abs(dy) <= maxCrossRatio * Math.abs(dx) && dx !== 0) return dx > 0 ? 'left of' : 'right of'
  return null
}
