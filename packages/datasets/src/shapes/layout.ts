import type { Mulberry32 } from '../random.js'
import { HEIGHT_OVER_WIDTH } from './geometry.js'
import { GENERATED_MAX_CROSS_RATIO, type Point } from './relation.js'
import type { Box } from './scene.js'
import type { ShapeKind, ShapeRelation } from './vocabulary.js'

/** Every shape's box stays this far inside the image edge (image-side units). */
export const LAYOUT_MARGIN = 0.03
/**
 * The least space between two shapes' boxes along their relation's axis: 2.5 px at 32×32, so a
 * blurred reconstruction still shows background between them and they stay two blobs.
 */
export const LAYOUT_GAP = 0.08

/** What layout needs to know of a shape: its kind (for its box's proportions) and its extent. */
export interface LayoutShape {
  kind: ShapeKind
  extent: number
}

function size(shape: LayoutShape): { width: number; height: number } {
  return { width: shape.extent, height: shape.extent * HEIGHT_OVER_WIDTH[shape.kind] }
}

/** The box of a shape centred at `centre`. */
export function boxAround(shape: LayoutShape, centre: Point): Box {
  const { width, height } = size(shape)
  return { left: centre.x - width / 2, top: centre.y - height / 2, right: centre.x + width / 2, bottom: centre.y + height / 2 }
}

const uniform = (rng: Mulberry32, lo: number, hi: number) => lo + (hi - lo) * rng.next()

/** A centre for one shape anywhere its box fits inside the margins. */
export function placeAlone(shape: LayoutShape, rng: Mulberry32): Point {
  const { width, height } = size(shape)
  return {
    x: uniform(rng, LAYOUT_MARGIN + width / 2, 1 - LAYOUT_MARGIN - width / 2),
    y: uniform(rng, LAYOUT_MARGIN + height / 2, 1 - LAYOUT_MARGIN - height / 2),
  }
}

/**
 * Centres for two shapes so that "first <relation> second" is the natural reading: along the
 * relation's axis their boxes are at least LAYOUT_GAP apart (so they never overlap), and across
 * it the centres are offset by at most GENERATED_MAX_CROSS_RATIO of their distance along it and
 * at most half the narrower shape's span, so each centre lies within the other shape's span.
 * Feasible for any two extents up to 0.43: 0.43 + 0.43 + LAYOUT_GAP + 2·LAYOUT_MARGIN = 1.
 */
export function placePair(first: LayoutShape, second: LayoutShape, relation: ShapeRelation, rng: Mulberry32): [Point, Point] {
  const vertical = relation === 'above' || relation === 'below'
  // "lead" is the shape nearer the top (vertical) or the left (horizontal).
  const firstLeads = relation === 'above' || relation === 'left of'
  const [lead, trail] = firstLeads ? [size(first), size(second)] : [size(second), size(first)]
  const along = (s: { width: number; height: number }) => (vertical ? s.height : s.width)
  const across = (s: { width: number; height: number }) => (vertical ? s.width : s.height)

  const halfSum = (along(lead) + along(trail)) / 2
  const minDistance = halfSum + LAYOUT_GAP
  const maxDistance = Math.max(minDistance, 1 - 2 * LAYOUT_MARGIN - halfSum)
  const distance = uniform(rng, minDistance, maxDistance)
  const span = distance + halfSum
  const leadAlong = uniform(rng, LAYOUT_MARGIN, Math.max(LAYOUT_MARGIN, 1 - LAYOUT_MARGIN - span)) + along(lead) / 2
  const trailAlong = leadAlong + distance

  const maxOffset = Math.min(GENERATED_MAX_CROSS_RATIO * distance, Math.min(across(lead), across(trail)) / 2)
  const offset = uniform(rng, -maxOffset, maxOffset)
  // The lead's centre across the axis, where both boxes fit inside the margins.
  const lo = Math.max(LAYOUT_MARGIN + across(lead) / 2, LAYOUT_MARGIN + across(trail) / 2 - offset)
  const hi = Math.min(1 - LAYOUT_MARGIN - across(lead) / 2, 1 - LAYOUT_MARGIN - across(trail) / 2 - offset)
  const leadAcross = uniform(rng, lo, hi)
  const trailAcross = leadAcross + offset

  const point = (a: number, c: number): Point => (vertical ? { x: c, y: a } : { x: a, y: c })
  const leadCentre = point(leadAlong, leadAcross)
  const trailCentre = point(trailAlong, trailAcross)
  return firstLeads ? [leadCentre, trailCentre] : [trailCentre, leadCentre]
}
