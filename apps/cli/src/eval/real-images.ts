import type { DalleBundle } from '@tessera/dalle'
import { Mulberry32, type ImageCaptionDataset } from '@tessera/datasets'
import { encodeDataset } from '@tessera/dvae'
import { bestIndices, mean, median, round, type ClipScorer } from './scoring.js'

export interface RealImageEvalOptions {
  /** Captions evaluated per split. */
  captions: number
  /** Images the true one is ranked among (itself included). */
  candidates: number
  /** Images generated per caption (0: ranks only), and how many of them CLIP keeps. */
  count: number
  keep: number
  seed: number
  onCaption?: () => void
}

export interface RealImageSplitResult {
  captions: number
  /** CLIP's score of the kept images and of the real image for the same caption (null without a CLIP, or with no samples). */
  clip: { kept: number; real: number; keptMinusReal: number; keptAtLeastReal: number } | null
  /** Where the real image ranks among `candidates` by the prior's image loss given its caption (1 = likeliest). */
  rank: RankSummary
  /**
   * The same rank by the loss given the caption minus the loss given the null caption (how much
   * the caption explains the image): plain images with much blank background are likely under
   * every caption, and this contrast, the one classifier-free guidance samples with, discounts it.
   */
  rankContrast: RankSummary
}

export interface RankSummary {
  candidates: number
  median: number
  mean: number
  top1: number
  top5: number
  chanceMedian: number
}

/**
 * `count` distinct captions of a split, chosen by a seeded draw: the real image each was drawn
 * with, and others with a different caption to rank it among (another vendor's drawing of the
 * same emoji shares the caption and is no negative).
 */
function pickCaptions(data: ImageCaptionDataset, opts: RealImageEvalOptions): { truth: number; others: number[] }[] {
  const rng = new Mulberry32(opts.seed)
  const pick = () => Math.floor(rng.next() * data.length)
  const distinct = new Set(data.captions).size
  const seen = new Set<string>()
  const picks: { truth: number; others: number[] }[] = []
  while (picks.length < Math.min(opts.captions, distinct)) {
    const truth = pick()
    const caption = data.captions[truth]!
    if (seen.has(caption)) continue
    seen.add(caption)
    const negatives = data.captions.filter((c) => c !== caption).length
    const others = new Set<number>()
    while (others.size < Math.min(opts.candidates - 1, negatives)) {
      const j = pick()
      if (data.captions[j] !== caption) others.add(j)
    }
    picks.push({ truth, others: [...others] })
  }
  return picks
}

/** The images at `indices` as one small dataset (encoding a whole split for a few dozen images would waste minutes). */
function subset(data: ImageCaptionDataset, indices: readonly number[]): ImageCaptionDataset {
  const per = 3 * data.imageSize * data.imageSize
  const images = new Float32Array(indices.length * per)
  indices.forEach((i, k) => images.set(data.images.subarray(i * per, (i + 1) * per), k * per))
  return { imageSize: data.imageSize, length: indices.length, images, captions: indices.map((i) => data.captions[i]!) }
}

/** Mean image loss (nats per image token) of each image's tokens given one caption's ids (padded to the prior's text length). */
async function imageLosses(bundle: DalleBundle, ids: Int32Array, tokens: Int32Array, count: number): Promise<number[]> {
  const { prior, device } = bundle
  const T = prior.config.textLength
  const HW = prior.imageLength
  const losses: number[] = []
  const batch = 100
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start)
    const text = new Int32Array(n * T)
    for (let k = 0; k < n; k++) text.set(ids, k * T)
    const t = prior.imageLossPerPair(device.tensor(text, [n, T]), device.tensor(tokens.subarray(start * HW, (start + n) * HW), [n, HW]))
    try {
      losses.push(...((await t.read()) as Float32Array))
    } finally {
      t.dispose()
    }
  }
  return losses
}

/**
 * How a bundle does on captions with real images (emoji, your folder): for each caption, CLIP's
 * score of the images it keeps beside CLIP's score of the real image (a good model's kept images
 * match their caption about as well as the real one does), and the rank of the real image among
 * `candidates` by the prior's image loss (chance: (candidates + 1) / 2).
 */
export async function evaluateOnRealImages(bundle: DalleBundle, data: ImageCaptionDataset, clip: ClipScorer | null, opts: RealImageEvalOptions): Promise<RealImageSplitResult> {
  const picks = pickCaptions(data, opts)
  const needed = [...new Set(picks.flatMap((p) => [p.truth, ...p.others]))]
  const tokens = await encodeDataset(bundle.dvae, subset(data, needed))
  const HW = bundle.prior.imageLength
  const row = new Map(needed.map((index, k) => [index, k]))
  const ranks: number[] = []
  const contrastRanks: number[] = []
  // The null caption's loss depends on the image alone: once per image, not per caption.
  const nullCaption = new Int32Array(bundle.prior.config.textLength).fill(bundle.prior.config.padId)
  const nullLoss = await imageLosses(bundle, nullCaption, tokens, needed.length)
  const clipRows: { kept: number; real: number }[] = []
  for (const [i, { truth, others }] of picks.entries()) {
    const caption = data.captions[truth]!
    const candidates = [truth, ...others]
    const candidateTokens = new Int32Array(candidates.length * HW)
    candidates.forEach((index, k) => candidateTokens.set(tokens.subarray(row.get(index)! * HW, (row.get(index)! + 1) * HW), k * HW))
    const losses = await imageLosses(bundle, bundle.encodePrompt(caption, { truncate: true }), candidateTokens, candidates.length)
    const contrast = losses.map((l, k) => l - nullLoss[row.get(candidates[k]!)!]!)
    ranks.push(rankOfFirst(losses))
    contrastRanks.push(rankOfFirst(contrast))
    if (clip && opts.count > 0) {
      // Candidates in sampling order; CLIP keeps the best `keep`, as generate's reranking does.
      const { images } = await bundle.generate({ prompt: caption, count: opts.count, keep: opts.count, seed: opts.seed + i, reranker: 'none', truncate: true })
      const scores = await clip(caption, images.pixels, images.count, images.size)
      const kept = bestIndices(scores, opts.keep).map((k) => scores[k]!)
      const real = await clip(caption, subset(data, [truth]).images, 1, data.imageSize)
      clipRows.push({ kept: mean(kept), real: real[0]! })
    }
    opts.onCaption?.()
  }
  const candidates = Math.min(opts.candidates, 1 + Math.max(0, ...picks.map((p) => p.others.length)))
  return {
    captions: picks.length,
    clip: clipRows.length
      ? {
          kept: round(mean(clipRows.map((r) => r.kept))),
          real: round(mean(clipRows.map((r) => r.real))),
          keptMinusReal: round(mean(clipRows.map((r) => r.kept - r.real))),
          keptAtLeastReal: round(clipRows.filter((r) => r.kept >= r.real).length / clipRows.length),
        }
      : null,
    rank: summariseRanks(ranks, candidates),
    rankContrast: summariseRanks(contrastRanks, candidates),
  }
}

/** 1 + how many candidates score strictly lower than the first (the true image): ties favour it. */
const rankOfFirst = (scores: readonly number[]) => 1 + scores.filter((s) => s < scores[0]!).length

function summariseRanks(ranks: readonly number[], candidates: number): RankSummary {
  return {
    candidates,
    median: median(ranks),
    mean: round(mean(ranks), 2),
    top1: round(ranks.filter((r) => r === 1).length / ranks.length),
    top5: round(ranks.filter((r) => r <= 5).length / ranks.length),
    chanceMedian: (candidates + 1) / 2,
  }
}
