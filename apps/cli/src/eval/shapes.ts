import type { DalleBundle } from '@tessera/dalle'
import { Mulberry32 } from '@tessera/datasets'
import type { ShapesJudge } from '../data/shapes.js'
import { bestIndices, round, type ClipScorer } from './scoring.js'

export interface ShapesEvalOptions {
  captions: number
  count: number
  keep: number
  seed: number
  onCaption?: () => void
}

export interface ShapesSplitResult {
  captions: number
  images: number
  /** Share of all generated images the checker accepts: sampling alone. */
  acceptedWithoutReranking: number
  /** Share of the `keep` CLIP ranks best per caption (null without a CLIP). */
  acceptedWithReranking: number | null
}

/** `n` of `captions`, a seeded draw without repeats, in draw order. */
function draw<T>(items: readonly T[], n: number, seed: number): T[] {
  const rng = new Mulberry32(seed)
  const pool = [...items]
  const out: T[] = []
  while (out.length < n && pool.length) out.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!)
  return out
}

/**
 * How often a shapes bundle draws what it is asked, by the rule-based checker: on captions whose
 * combinations training showed and on ones it never showed, with and without CLIP's reranking.
 */
export async function evaluateShapes(bundle: DalleBundle, judge: ShapesJudge, clip: ClipScorer | null, kind: 'seen' | 'unseen', opts: ShapesEvalOptions): Promise<ShapesSplitResult> {
  const captions = draw(judge.captions(kind), opts.captions, opts.seed)
  let accepted = 0
  let keptAccepted = 0
  let images = 0
  for (const [i, caption] of captions.entries()) {
    const result = await bundle.generate({ prompt: caption, count: opts.count, keep: opts.count, seed: opts.seed + i, reranker: 'none', truncate: true })
    const ok = Array.from({ length: result.images.count }, (_, k) => judge.accepts(result.images.planes(k), caption))
    accepted += ok.filter(Boolean).length
    images += ok.length
    if (clip) {
      const scores = await clip(caption, result.images.pixels, result.images.count, result.images.size)
      keptAccepted += bestIndices(scores, opts.keep).filter((k) => ok[k]).length
    }
    opts.onCaption?.()
  }
  return {
    captions: captions.length,
    images,
    acceptedWithoutReranking: round(accepted / images),
    acceptedWithReranking: clip ? round(keptAccepted / (captions.length * Math.min(opts.keep, opts.count))) : null,
  }
}
