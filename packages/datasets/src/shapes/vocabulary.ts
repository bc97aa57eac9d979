/**
 * The words of the shapes world and what they mean in pixels: kinds, the colour palette,
 * size classes and relations. The renderer, the caption grammar and the checker all read
 * these tables, so a word means the same thing everywhere.
 */

export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'star'] as const
export type ShapeKind = (typeof SHAPE_KINDS)[number]

export const SHAPE_COLOUR_NAMES = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'black'] as const
export type ShapeColour = (typeof SHAPE_COLOUR_NAMES)[number]

/**
 * RGB in [0, 1]. Chosen far apart (the closest pairs, red–orange and orange–yellow, differ by
 * 0.43 in RGB; the rest by ≥ 0.54) and far from the white background (yellow, the palest, is
 * 0.93 away), so
 * a dVAE round trip that blurs edges and shifts colours by a few hundredths keeps every
 * colour nearest to itself. No near-white colours: they would vanish into the background.
 */
export const SHAPE_COLOURS: Readonly<Record<ShapeColour, readonly [number, number, number]>> = {
  red: [0.86, 0.08, 0.08],
  orange: [1.0, 0.48, 0.0],
  yellow: [0.96, 0.9, 0.08],
  green: [0.08, 0.62, 0.16],
  blue: [0.1, 0.25, 0.95],
  purple: [0.55, 0.12, 0.68],
  black: [0.05, 0.05, 0.05],
}

export const SHAPE_SIZES = ['small', 'large'] as const
export type ShapeSize = (typeof SHAPE_SIZES)[number]

/**
 * A shape's size is its extent: the longer side of its bounding box, as a fraction of the
 * image side. Each class draws uniformly from its range. Large is as large as two large shapes
 * side by side allow (layout.ts); small is no smaller than a star whose notches survive a
 * blur at 32×32 (8.3 px: at 7.7 px a 3×3 box blur makes a third of them read as circles). The
 * gap between the ranges (0.30 to 0.39, a ratio of 1.3; 1.47 between their middles) keeps the
 * classes apart after blur, where extents are measured within ±8%.
 */
export const SHAPE_SIZE_RANGES: Readonly<Record<ShapeSize, readonly [number, number]>> = {
  small: [0.26, 0.3],
  large: [0.39, 0.43],
}

/** The checker's boundary between small and large: the geometric mean of the ranges' inner ends. */
export const SIZE_CLASS_BOUNDARY = Math.sqrt(SHAPE_SIZE_RANGES.small[1] * SHAPE_SIZE_RANGES.large[0])

export const SHAPE_RELATIONS = ['above', 'below', 'left of', 'right of'] as const
export type ShapeRelation = (typeof SHAPE_RELATIONS)[number]
