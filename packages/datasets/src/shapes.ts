import { DatasetError } from './errors.js'
import type { ImageCaptionDataset } from './dataset.js'
import { Mulberry32 } from './random.js'

export const SHAPE_KINDS = ['circle', 'square', 'triangle'] as const
export type ShapeKind = (typeof SHAPE_KINDS)[number]

export const SHAPE_COLOURS: Readonly<Record<string, readonly [number, number, number]>> = {
  red: [0.9, 0.1, 0.1],
  green: [0.1, 0.7, 0.2],
  blue: [0.15, 0.3, 0.9],
  yellow: [0.95, 0.85, 0.1],
  purple: [0.6, 0.2, 0.7],
  orange: [1.0, 0.55, 0.05],
  black: [0.05, 0.05, 0.05],
}

export interface ShapesOptions {
  count: number
  /** Side of the square images in pixels (default 32). */
  imageSize?: number
  seed?: number
}

export interface ShapesDataset extends ImageCaptionDataset {
  readonly kinds: readonly ShapeKind[]
  readonly colours: readonly string[]
}

// Sub-samples per pixel side: edges get fractional coverage, so small images stay smooth.
const SUPERSAMPLE = 4

function inside(kind: ShapeKind, px: number, py: number, cx: number, cy: number, r: number): boolean {
  const dx = px - cx
  const dy = py - cy
  if (kind === 'circle') return dx * dx + dy * dy <= r * r
  if (kind === 'square') return Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8
  // Upward triangle: apex at (cx, cy - r), base at y = cy + r/2, half-width r·√3/2.
  if (dy < -r || dy > r / 2) return false
  return Math.abs(dx) <= ((dy + r) / 1.5) * (Math.sqrt(3) / 2)
}

/**
 * Seeded images of one coloured shape on white, captioned "a red circle". The same options
 * always give the same data: a fast, GPU-free dataset for tests.
 */
export function makeShapesDataset(opts: ShapesOptions): ShapesDataset {
  const size = opts.imageSize ?? 32
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new DatasetError(`shapes count must be a positive integer, got ${opts.count}`)
  if (!Number.isInteger(size) || size < 4) throw new DatasetError(`shapes imageSize must be an integer ≥ 4, got ${size}`)
  const rng = new Mulberry32(opts.seed ?? 0)
  const colourNames = Object.keys(SHAPE_COLOURS)
  const n = size * size
  const images = new Float32Array(opts.count * 3 * n)
  const captions: string[] = []
  const kinds: ShapeKind[] = []
  const colours: string[] = []
  for (let i = 0; i < opts.count; i++) {
    const kind = rng.pick(SHAPE_KINDS)
    const colour = rng.pick(colourNames)
    const rgb = SHAPE_COLOURS[colour]!
    const r = size * (0.2 + 0.15 * rng.next())
    const cx = r + (size - 2 * r) * rng.next()
    const cy = r + (size - 2 * r) * rng.next()
    const base = i * 3 * n
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let hits = 0
        for (let sy = 0; sy < SUPERSAMPLE; sy++) {
          for (let sx = 0; sx < SUPERSAMPLE; sx++) {
            if (inside(kind, x + (sx + 0.5) / SUPERSAMPLE, y + (sy + 0.5) / SUPERSAMPLE, cx, cy, r)) hits++
          }
        }
        const cover = hits / (SUPERSAMPLE * SUPERSAMPLE)
        for (let c = 0; c < 3; c++) images[base + c * n + y * size + x] = rgb[c]! * cover + (1 - cover)
      }
    }
    captions.push(`a ${colour} ${kind}`)
    kinds.push(kind)
    colours.push(colour)
  }
  return { imageSize: size, length: opts.count, images, captions, kinds, colours }
}
