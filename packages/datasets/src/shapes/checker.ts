import { DatasetError } from '../errors.js'
import type { ImagePlanes, RgbaImage } from '../image/types.js'
import { fitKinds, sizeClassOf } from './classify.js'
import { parseShapesCaption, type ShapeDescription, type ShapesCaption } from './grammar.js'
import { relationBetween, type Point } from './relation.js'
import { findBlobs, readPixels, type RgbPlanes } from './segment.js'
import type { ShapeColour, ShapeKind, ShapeRelation, ShapeSize } from './vocabulary.js'

export interface ShapesCheckOptions {
  /** Blobs covering less than this fraction of the image are specks and ignored (default 0.006: 6 px at 32×32, a third of the smallest star). */
  minBlobArea?: number
  /** RGB distance from the nearest "palette colour over white" beyond which a covered pixel is off-palette (default 0.3). */
  colourTolerance?: number
  /** The least share of a blob's colour vote its colour must win (default 0.7). */
  minColourShare?: number
  /** The worst template mismatch still read as a shape (default 0.25; the right kind fits within 0.14 even blurred and noisy, see classify.ts). */
  maxMismatch?: number
}

/** A significant blob as the checker read it; lengths in image-side units. */
export interface DetectedShape {
  colour: ShapeColour | 'off-palette'
  /** The colour's share of the blob's coverage-weighted colour vote. */
  colourShare: number
  /** The best-fitting template's kind; only a shape when `mismatch` ≤ maxMismatch. */
  kind: ShapeKind
  mismatch: number
  size: ShapeSize
  extent: number
  /** The centre of the fitted template's bounding box, which the relation rule reads. */
  centre: Point
  /** The blob's area as a fraction of the image's. */
  area: number
}

export interface ShapesCheck {
  /** Whether the image shows what the caption says and nothing else. */
  ok: boolean
  /** Why not, one line per problem; empty when ok. */
  reasons: string[]
  expected: ShapesCaption
  /** The significant blobs, in the caption's order when their number matches it (else largest first). */
  found: DetectedShape[]
  /** For two shapes: the relation of the first found to the second, null when no relation is clear. */
  relation?: ShapeRelation | null
}

const DEFAULTS: Required<ShapesCheckOptions> = { minBlobArea: 0.006, colourTolerance: 0.3, minColourShare: 0.7, maxMismatch: 0.25 }

/**
 * Whether an image shows its caption: segments it into blobs (segment.ts: palette colour per
 * pixel over white, 8-connected blobs, specks dropped), reads each blob's kind and size by
 * template fitting (classify.ts), and requires exactly the caption's shapes, each of the right
 * colour and kind, of the right size where the caption names one, and for two shapes the
 * caption's relation between their centres (relation.ts). Any other significant blob fails it.
 *
 * `image`: [3, S, S] float planes in [0, 1] (a dataset image or a model's output) or 8-bit RGBA
 * (a decoded PNG; alpha is ignored); square. `caption`: a caption string (parsed with
 * parseShapesCaption, which throws ShapesCaptionError outside the grammar) or its description.
 */
export function checkShapesImage(image: ImagePlanes | RgbaImage, caption: string | ShapesCaption, opts: ShapesCheckOptions = {}): ShapesCheck {
  const o = { ...DEFAULTS, ...opts }
  const expected = typeof caption === 'string' ? parseShapesCaption(caption) : caption
  const planes = toRgbPlanes(image)
  const size = planes.size
  const blobs = findBlobs(planes, readPixels(planes, o.colourTolerance))
    .filter((b) => b.area >= o.minBlobArea * size * size)
    .sort((a, b) => b.area - a.area)
  const found = blobs.map((blob): DetectedShape => {
    const fit = fitKinds(blob, size)[0]!
    return {
      colour: blob.colour,
      colourShare: blob.colourShare,
      kind: fit.kind,
      mismatch: fit.mismatch,
      size: sizeClassOf(fit.extent),
      extent: fit.extent,
      centre: fit.centre,
      area: blob.area / (size * size),
    }
  })
  if (found.length !== expected.shapes.length) {
    const what = found.length === 0 ? 'nothing' : found.map(describe).join(', ')
    return { ok: false, reasons: [`expected ${expected.shapes.length} shape${expected.shapes.length > 1 ? 's' : ''}, found ${found.length}: ${what}`], expected, found }
  }
  if (expected.shapes.length === 1) {
    const reasons = shapeProblems(expected.shapes[0], found[0]!, o, 'the shape')
    return { ok: reasons.length === 0, reasons, expected, found }
  }
  // Two shapes: try both ways of pairing the blobs with the caption's shapes; keep the one with
  // fewer problems (the first when equal, as for "a red circle above a red circle").
  const attempts = [[found[0]!, found[1]!], [found[1]!, found[0]!]].map(([first, second]) => {
    const relation = relationBetween(first!.centre, second!.centre)
    const reasons = [
      ...shapeProblems(expected.shapes[0], first!, o, 'the first shape'),
      ...shapeProblems(expected.shapes[1]!, second!, o, 'the second shape'),
    ]
    if (relation !== expected.relation) reasons.push(`expected the ${expected.shapes[0].kind} ${expected.relation} the ${expected.shapes[1]!.kind}, found ${relation ? `the ${first!.kind} ${relation} the ${second!.kind}` : 'no clear relation'} (centres ${point(first!.centre)} and ${point(second!.centre)})`)
    return { reasons, found: [first!, second!], relation }
  })
  const best = attempts[1]!.reasons.length < attempts[0]!.reasons.length ? attempts[1]! : attempts[0]!
  return { ok: best.reasons.length === 0, reasons: best.reasons, expected, found: best.found, relation: best.relation }
}

function shapeProblems(want: ShapeDescription, got: DetectedShape, o: Required<ShapesCheckOptions>, which: string): string[] {
  const problems: string[] = []
  const wanted = `${want.size ? `${want.size} ` : ''}${want.colour} ${want.kind}`
  if (got.colour !== want.colour) problems.push(`${which}: expected ${wanted}, found ${describe(got)} (wrong colour)`)
  else if (got.colourShare < o.minColourShare) problems.push(`${which}: expected ${wanted}, found a blob only ${Math.round(100 * got.colourShare)}% ${got.colour}`)
  if (got.mismatch > o.maxMismatch) problems.push(`${which}: expected ${wanted}, found a blob that is no clear shape (nearest: ${got.kind}, mismatch ${got.mismatch.toFixed(2)} > ${o.maxMismatch})`)
  else if (got.kind !== want.kind) problems.push(`${which}: expected ${wanted}, found ${describe(got)} (wrong kind)`)
  if (want.size && got.size !== want.size) problems.push(`${which}: expected ${wanted}, found ${describe(got)} (wrong size: extent ${got.extent.toFixed(2)} of the image)`)
  return problems
}

const describe = (s: DetectedShape) => `a ${s.size} ${s.colour} ${s.kind} at ${point(s.centre)}`
const point = (p: Point) => `(${p.x.toFixed(2)}, ${p.y.toFixed(2)})`

/** Float planes or RGBA bytes → RGB float planes; DatasetError unless square with 3 (or RGBA's 4) channels. */
function toRgbPlanes(image: ImagePlanes | RgbaImage): RgbPlanes {
  if ('channels' in image) {
    if (image.channels !== 3 || image.width !== image.height || image.data.length !== 3 * image.width * image.height) {
      throw new DatasetError(`checkShapesImage needs square RGB planes [3, S, S], got [${image.channels}, ${image.height}, ${image.width}] with ${image.data.length} values`)
    }
    return { size: image.width, data: image.data }
  }
  const { width, height, data } = image
  if (width !== height || data.length !== 4 * width * height) throw new DatasetError(`checkShapesImage needs a square RGBA image, got ${width}×${height} with ${data.length} bytes`)
  const n = width * height
  const planes = new Float32Array(3 * n)
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planes[c * n + i] = data[4 * i + c]! / 255
  return { size: width, data: planes }
}
