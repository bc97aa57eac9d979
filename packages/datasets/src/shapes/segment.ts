import { SHAPE_COLOUR_NAMES, SHAPE_COLOURS, type ShapeColour } from './vocabulary.js'

/**
 * Finding the shapes in an image: each pixel is read as a palette colour laid over white with
 * some coverage, pixels at least half covered are foreground, foreground splits into
 * 8-connected blobs, and each blob gets one colour (a coverage-weighted vote), its area and
 * centre of mass, and its coverage around it, which classify.ts fits with templates.
 *
 * Why blobs of any colour and not components per colour: an antialiased or blurred edge pixel
 * is its colour mixed with white, and a half-covered orange pixel is only ~0.2 from a
 * half-covered yellow one; after a dVAE shifts colours a little, rims of per-colour components
 * fall into the neighbouring hue and fragment. Reading each pixel as "colour over white"
 * (the distance to the segment from white to each palette colour) and voting over the whole
 * blob is robust to both; shapes never touch (layout.ts keeps 2.5 px between them at 32×32),
 * so a blob is one shape.
 */

/** RGB float planes [3, size, size], values nominally in [0, 1]. */
export interface RgbPlanes {
  size: number
  data: Float32Array
}

/** The colour index of pixels that lie far from every palette colour's line to white. */
export const OFF_PALETTE = -1

export interface PixelReading {
  /** Index into SHAPE_COLOUR_NAMES of the nearest palette colour, or OFF_PALETTE. */
  colour: Int8Array
  /** How much of the pixel that colour covers, in [0, 1] (1 − the share of white). */
  coverage: Float32Array
}

const INK = SHAPE_COLOUR_NAMES.map((name) => SHAPE_COLOURS[name].map((v) => 1 - v))

/**
 * Each pixel as a palette colour over white: ink q = white − pixel; for each colour with ink v,
 * coverage α = q·v / v·v and residual |q − α·v|; the nearest colour is the smallest residual.
 * Pixels whose residual exceeds `tolerance` (in RGB units) while at least half covered are
 * off-palette (cyan, say; grey is black half covered and pink is red a third covered, so they
 * are not). α above 1 (darker than the palette colour) counts as full coverage.
 */
export function readPixels(image: RgbPlanes, tolerance: number): PixelReading {
  const n = image.size * image.size
  const colour = new Int8Array(n)
  const coverage = new Float32Array(n)
  const d = image.data
  for (let i = 0; i < n; i++) {
    const q0 = 1 - clamp01(d[i]!)
    const q1 = 1 - clamp01(d[n + i]!)
    const q2 = 1 - clamp01(d[2 * n + i]!)
    let best = OFF_PALETTE
    let bestResidual = Infinity
    let bestAlpha = 0
    for (let k = 0; k < INK.length; k++) {
      const v = INK[k]!
      const alpha = Math.max(0, (q0 * v[0]! + q1 * v[1]! + q2 * v[2]!) / (v[0]! ** 2 + v[1]! ** 2 + v[2]! ** 2))
      const residual = (q0 - alpha * v[0]!) ** 2 + (q1 - alpha * v[1]!) ** 2 + (q2 - alpha * v[2]!) ** 2
      if (residual < bestResidual) {
        bestResidual = residual
        best = k
        bestAlpha = alpha
      }
    }
    const cover = Math.min(1, bestAlpha)
    colour[i] = cover >= 0.5 && Math.sqrt(bestResidual) > tolerance ? OFF_PALETTE : best
    coverage[i] = cover
  }
  return { colour, coverage }
}

/** Coverage of one palette colour (or of each pixel's own nearest colour for OFF_PALETTE) at pixel i. */
function coverageOf(image: RgbPlanes, reading: PixelReading, colour: number, i: number): number {
  if (colour === OFF_PALETTE) return reading.coverage[i]!
  const n = image.size * image.size
  const v = INK[colour]!
  const q0 = 1 - clamp01(image.data[i]!)
  const q1 = 1 - clamp01(image.data[n + i]!)
  const q2 = 1 - clamp01(image.data[2 * n + i]!)
  return clamp01((q0 * v[0]! + q1 * v[1]! + q2 * v[2]!) / (v[0]! ** 2 + v[1]! ** 2 + v[2]! ** 2))
}

/** One blob of foreground and its measurements, in pixels. */
export interface Blob {
  /** The winning colour of the vote, or 'off-palette'. */
  colour: ShapeColour | 'off-palette'
  /** The winner's share of the coverage-weighted vote over the blob's foreground pixels. */
  colourShare: number
  /** Σ coverage over the blob and its rim: the drawn area, antialiasing included; a blur keeps it. */
  area: number
  /** The coverage-weighted centre of mass; a blur keeps it too. */
  centroid: { x: number; y: number }
  /** The blob's coverage (of its colour) in a window around it; 0 on pixels that are not the blob's. */
  window: { x0: number; y0: number; width: number; height: number; coverage: Float32Array }
}

/** Pixels a blob claims beyond its half-covered ones: a blur spreads an edge ~1.5 px. */
const RIM_STEPS = 2

/** Blobs of `reading`'s foreground (coverage ≥ ½), 8-connected, in raster order of their first pixel. */
export function findBlobs(image: RgbPlanes, reading: PixelReading): Blob[] {
  const size = image.size
  const n = size * size
  const label = new Int32Array(n).fill(-1)
  const members: number[][] = []
  for (let start = 0; start < n; start++) {
    if (label[start] !== -1 || reading.coverage[start]! < 0.5) continue
    const id = members.length
    const pixels = [start]
    label[start] = id
    for (let head = 0; head < pixels.length; head++) {
      forNeighbours(pixels[head]!, size, (q) => {
        if (label[q] === -1 && reading.coverage[q]! >= 0.5) {
          label[q] = id
          pixels.push(q)
        }
      })
    }
    members.push(pixels)
  }
  const owner = claimRims(label, members, size, RIM_STEPS)
  return members.map((pixels, id) => measureBlob(image, reading, pixels, owner, id))
}

/**
 * Gives each background pixel within `steps` 8-neighbour steps of a blob to the nearest blob
 * (the first to reach it), so the faint antialiased or blurred rim counts towards that blob.
 */
function claimRims(label: Int32Array, members: number[][], size: number, steps: number): Int32Array {
  const owner = Int32Array.from(label)
  let frontier = members.flat()
  for (let s = 0; s < steps; s++) {
    const next: number[] = []
    for (const p of frontier) {
      forNeighbours(p, size, (q) => {
        if (owner[q] === -1) {
          owner[q] = owner[p]!
          next.push(q)
        }
      })
    }
    frontier = next
  }
  return owner
}

function measureBlob(image: RgbPlanes, reading: PixelReading, pixels: number[], owner: Int32Array, id: number): Blob {
  const size = image.size
  const votes = new Float64Array(SHAPE_COLOUR_NAMES.length + 1)
  for (const p of pixels) votes[reading.colour[p]! + 1]! += reading.coverage[p]!
  let winner = 0
  for (let k = 1; k < votes.length; k++) if (votes[k]! > votes[winner]!) winner = k
  const total = votes.reduce((a, b) => a + b, 0)
  const colourIndex = winner - 1

  // The window: the blob's pixels with its rim and one pixel more, clipped to the image.
  let x0 = size
  let y0 = size
  let x1 = -1
  let y1 = -1
  for (const p of pixels) {
    const x = p % size
    const y = (p - x) / size
    x0 = Math.min(x0, x)
    x1 = Math.max(x1, x)
    y0 = Math.min(y0, y)
    y1 = Math.max(y1, y)
  }
  const pad = RIM_STEPS + 1
  x0 = Math.max(0, x0 - pad)
  y0 = Math.max(0, y0 - pad)
  x1 = Math.min(size - 1, x1 + pad)
  y1 = Math.min(size - 1, y1 + pad)
  const width = x1 - x0 + 1
  const height = y1 - y0 + 1
  const coverage = new Float32Array(width * height)
  let area = 0
  let mx = 0
  let my = 0
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const p = y * size + x
      if (owner[p] !== id) continue
      const a = coverageOf(image, reading, colourIndex, p)
      coverage[(y - y0) * width + (x - x0)] = a
      area += a
      mx += a * (x + 0.5)
      my += a * (y + 0.5)
    }
  }
  return {
    colour: colourIndex === OFF_PALETTE ? 'off-palette' : SHAPE_COLOUR_NAMES[colourIndex]!,
    colourShare: total > 0 ? votes[winner]! / total : 0,
    area,
    centroid: { x: mx / area, y: my / area },
    window: { x0, y0, width, height, coverage },
  }
}

/** Calls `visit` with each of the 8 neighbours of pixel p inside the image. */
function forNeighbours(p: number, size: number, visit: (q: number) => void): void {
  const x = p % size
  const y = (p - x) / size
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      if (dx === 0 && dy === 0) continue
      const nx = x + dx
      const ny = y + dy
      if (nx >= 0 && ny >= 0 && nx < size && ny < size) visit(ny * size + nx)
    }
  }
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v)
