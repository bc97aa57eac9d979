import { DatasetError } from '../errors.js'
import { outline, type Outline } from './geometry.js'
import type { Point } from './relation.js'
import { SHAPE_COLOURS, type ShapeColour, type ShapeKind } from './vocabulary.js'

/** What the renderer needs of a shape (a PlacedShape has it); lengths in image-side units. */
export interface DrawableShape {
  kind: ShapeKind
  colour: ShapeColour
  extent: number
  centre: Point
}

/** DatasetError unless `imageSize` is a usable side (an integer ≥ 4; shapes are recognisable from about 32). */
export function checkShapesImageSize(imageSize: number): void {
  if (!Number.isInteger(imageSize) || imageSize < 4) throw new DatasetError(`shapes imageSize must be an integer ≥ 4, got ${imageSize}`)
}

// Sub-samples per pixel side: edges get fractional coverage (17 levels), so small images stay smooth.
const SUPERSAMPLE = 4

/**
 * How much of each pixel of the window (x0, y0, width × height, in pixels) the outline covers,
 * in [0, 1], from 4×4 samples per pixel. The renderer draws with it and the checker's
 * templates (classify.ts) are made with it, so a clean image fits its template exactly.
 */
export function rasterize(o: Outline, x0: number, y0: number, width: number, height: number): Float32Array {
  const cover = new Float32Array(width * height)
  const xs = Math.max(x0, Math.floor(o.left))
  const xe = Math.min(x0 + width - 1, Math.ceil(o.right))
  const ys = Math.max(y0, Math.floor(o.top))
  const ye = Math.min(y0 + height - 1, Math.ceil(o.bottom))
  for (let y = ys; y <= ye; y++) {
    for (let x = xs; x <= xe; x++) {
      let hits = 0
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          if (o.contains(x + (sx + 0.5) / SUPERSAMPLE, y + (sy + 0.5) / SUPERSAMPLE)) hits++
        }
      }
      cover[(y - y0) * width + (x - x0)] = hits / (SUPERSAMPLE * SUPERSAMPLE)
    }
  }
  return cover
}

/**
 * Draws shapes on white into [3, S, S] float planes in [0, 1] (written at `offset` of `into`
 * when given, else into a new array), each blended over what is under it by its coverage, so
 * edges are antialiased.
 */
export function renderShapes(shapes: readonly DrawableShape[], imageSize: number, into?: Float32Array, offset = 0): Float32Array {
  checkShapesImageSize(imageSize)
  const n = imageSize * imageSize
  const planes = into ?? new Float32Array(3 * n)
  if (planes.length < offset + 3 * n) throw new DatasetError(`render target holds ${planes.length} values, needs ${offset + 3 * n}`)
  planes.fill(1, offset, offset + 3 * n)
  for (const shape of shapes) {
    const rgb = SHAPE_COLOURS[shape.colour]
    const cover = rasterize(outline(shape.kind, shape.centre.x * imageSize, shape.centre.y * imageSize, shape.extent * imageSize), 0, 0, imageSize, imageSize)
    for (let i = 0; i < n; i++) {
      const a = cover[i]!
      if (a === 0) continue
      for (let c = 0; c < 3; c++) planes[offset + c * n + i] = planes[offset + c * n + i]! * (1 - a) + rgb[c]! * a
    }
  }
  return planes
}
