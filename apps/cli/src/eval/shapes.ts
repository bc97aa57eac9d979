import type { DalleBundle } from '@tessera/dalle'
import { Mulberry32, parseShapesCaption } from '@tessera/datasets'
import type { ShapesJudge } from '../data/shapes.js'
import { bestIndices, round, type ClipScorer } from './scoring.js'

export interface ShapesEvalOptions {
  captions: number
  count: number
  keep: number
  seed: number
  onCaption?: () => void
}

export interface ShapesAcceptance {
  captions: number
  images: number
  /** Share of all generated images the checker accepts: sampling alone. */
  acceptedWithoutReranking: number
  /** Share of the `keep` CLIP ranks best per caption (null without a CLIP). */
  acceptedWithReranking: number | null
}

/** Over all captions, and apart for one-shape and two-shape captions (half the draw each, as in the training images). */
export interface ShapesSplitResult extends ShapesAcceptance {
  oneShape: ShapesAcceptance
  twoShapes: ShapesAcceptance
}

/** `n` of `captions`, a seeded draw without repeats, in draw order. */
function draw<T>(items: readonly T[], n: number, seed: number): T[] {
  const rng = new Mulberry32(seed)
  const pool = [...items]
  const out: T[] = []
  while (out.length < n && pool.length) out.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!)
  return out
}

const shapeCount = (caption: string) => parseShapesCaption(caption).shapes.length

/**
 * How often a shapes bundle draws what it is asked, by the rule-based checker: on captions whose
 * combinations training showed and on ones it never showed, with and without CLIP's reranking.
 * Half the captions name one shape and half two, as half the training images show each (drawn
 * from the list of captions alone, nearly all would name two: they have far more combinations).
 */
export async function evaluateShapes(bundle: DalleBundle, judge: ShapesJudge, clip: ClipScorer | null, kind: 'seen' | 'unseen', opts: ShapesEvalOptions): Promise<ShapesSplitResult> {
  const all = judge.captions(kind)
  const one = all.filter((c) => shapeCount(c) === 1)
  const two = all.filter((c) => shapeCount(c) === 2)
  const ones = draw(one, Math.min(one.length, Math.ceil(opts.captions / 2)), opts.seed)
  const captions = [...ones, ...draw(two, opts.captions - ones.length, opts.seed + 1)]
  const rows: { shapes: number; accepted: number; images: number; kept: number }[] = []
  for (const [i, caption] of captions.entries()) {
    const result = await bundle.generate({ prompt: caption, count: opts.count, keep: opts.count, seed: opts.seed + i, reranker: 'none', truncate: true })
    const ok = Array.from({ length: result.images.count }, (_, k) => judge.accepts(result.images.planes(k), caption))
    let kept = 0
    if (clip) {
      const scores = await clip(caption, result.images.pixels, result.images.count, result.images.size)
      kept = bestIndices(scores, opts.keep).filter((k) => ok[k]).length
    }
    rows.push({ shapes: shapeCount(caption), accepted: ok.filter(Boolean).length, images: ok.length, kept })
    opts.onCaption?.()
  }
  const summarise = (part: typeof rows): ShapesAcceptance => {
    const images = part.reduce((n, r) => n + r.images, 0)
    return {
      captions: part.length,
      images,
      acceptedWithoutReranking: images ? round(part.reduce((n, r) => n + r.accepted, 0) / images) : 0,
      acceptedWithReranking: clip && part.length ? round(part.reduce((n, r) => n + r.kept, 0) / (part.length * Math.min(opts.keep, opts.count))) : null,
    }
  }
  return { ...summarise(rows), oneShape: summarise(rows.filter((r) => r.shapes === 1)), twoShapes: summarise(rows.filter((r) => r.shapes === 2)) }
}
