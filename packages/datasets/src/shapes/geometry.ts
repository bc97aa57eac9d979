import type { ShapeKind } from './vocabulary.js'

/**
 * The outline of each kind, upright and axis-aligned, sized by its extent (the longer side of
 * its bounding box) and placed by the centre of that box. Nothing is rotated: a square is never
 * a diamond and a triangle always points up, so every kind has one look to learn.
 */

/** Inner over outer radius of the star: a regular pentagram (sin 18° / sin 54°). */
export const STAR_INNER_RATIO = Math.sin(Math.PI / 10) / Math.sin((3 * Math.PI) / 10)

const SIN72 = Math.sin((2 * Math.PI) / 5)
const COS36 = Math.cos(Math.PI / 5)
const SQRT3_2 = Math.sqrt(3) / 2

/** Bounding-box height over width (the width is the extent for every kind). */
export const HEIGHT_OVER_WIDTH: Readonly<Record<ShapeKind, number>> = {
  circle: 1,
  square: 1,
  triangle: SQRT3_2,
  // A star 2R·sin 72° wide from tip to tip, R·(1 + cos 36°) high from the top tip to the feet.
  star: (1 + COS36) / (2 * SIN72),
}

/** Area over extent²: the area of a shape is AREA_OVER_EXTENT_SQUARED[kind]·extent². */
export const AREA_OVER_EXTENT_SQUARED: Readonly<Record<ShapeKind, number>> = {
  circle: Math.PI / 4,
  square: 1,
  triangle: SQRT3_2 / 2,
  // Ten triangles between the centre, an outer and an inner vertex: 5·R·r·sin 36°, R = 1/(2·sin 72°).
  star: 5 * (1 / (2 * SIN72)) ** 2 * STAR_INNER_RATIO * Math.sin(Math.PI / 5),
}

/**
 * How far the centroid (centre of mass) lies below the bounding box's centre, over the extent:
 * a triangle's mass sits towards its base (h/6 below), a star's towards its body (its centre
 * is R below the top tip, the box's centre R·(1 + cos 36°)/2).
 */
export const CENTROID_BELOW_BOX_CENTRE: Readonly<Record<ShapeKind, number>> = {
  circle: 0,
  square: 0,
  triangle: SQRT3_2 / 6,
  star: (1 - COS36) / 2 / (2 * SIN72),
}

export interface Outline {
  /** Whether the point (x, y) is inside; y grows downwards. */
  contains(x: number, y: number): boolean
  /** The bounding box the outline fills to its edges. */
  readonly left: number
  readonly top: number
  readonly right: number
  readonly bottom: number
}

/** The outline of `kind` whose bounding box is centred on (cx, cy) and is `extent` wide. */
export function outline(kind: ShapeKind, cx: number, cy: number, extent: number): Outline {
  const half = extent / 2
  const halfHeight = (extent * HEIGHT_OVER_WIDTH[kind]) / 2
  const box = { left: cx - half, top: cy - halfHeight, right: cx + half, bottom: cy + halfHeight }
  switch (kind) {
    case 'circle':
      return { ...box, contains: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= half * half }
    case 'square':
      return { ...box, contains: (x, y) => Math.abs(x - cx) <= half && Math.abs(y - cy) <= half }
    case 'triangle':
      // Apex at the top centre, base along the bottom: the half-width grows linearly downwards.
      return { ...box, contains: (x, y) => y >= box.top && y <= box.bottom && Math.abs(x - cx) <= ((y - box.top) / (2 * halfHeight)) * half }
    case 'star':
      return { ...box, contains: polygonContains(starVertices(cx, box.top, extent)) }
  }
}

/** The 10 vertices of the star whose top tip is at (cx, top), alternating outer and inner. */
function starVertices(cx: number, top: number, extent: number): Float64Array {
  const outer = extent / (2 * SIN72)
  const inner = outer * STAR_INNER_RATIO
  const cy = top + outer
  const points = new Float64Array(20)
  for (let i = 0; i < 10; i++) {
    const angle = (i * Math.PI) / 5
    const r = i % 2 === 0 ? outer : inner
    points[2 * i] = cx + r * Math.sin(angle)
    points[2 * i + 1] = cy - r * Math.cos(angle)
  }
  return points
}

/** Even-odd point-in-polygon test over flat [x0, y0, x1, y1, …] vertices. */
function polygonContains(points: Float64Array): (x: number, y: number) => boolean {
  const n = points.length / 2
  return (x, y) => {
    let inside = false
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = points[2 * i]!
      const yi = points[2 * i + 1]!
      const xj = points[2 * j]!
      const yj = points[2 * j + 1]!
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
    }
    return inside
  }
}
