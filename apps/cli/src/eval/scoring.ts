import type { DalleBundle } from '@tessera/dalle'
import { getPlugin, listPlugins } from '@tessera/plugins'
import { tidy } from '@tessera/tensor-core'

/** CLIP's score of each host image against a prompt: exp(logit_scale)·cos, what reranking sorts by. */
export type ClipScorer = (prompt: string, pixels: Float32Array, count: number, size: number) => Promise<Float32Array>

/** The bundle's CLIP as a scorer, loaded once; null when the bundle has no CLIP component. */
export function bundleClipScorer(bundle: DalleBundle): ClipScorer | null {
  if (!bundle.manifest.components.clip || !listPlugins('reranker').includes('clip')) return null
  const reranker = getPlugin('reranker', 'clip').create({ device: bundle.device, bundle })
  return async (prompt, pixels, count, size) => {
    const images = tidy(() => bundle.device.tensor(pixels, [count, 3, size, size]))
    try {
      return await reranker.score(prompt, images)
    } finally {
      images.dispose()
    }
  }
}

/** Indices of the `keep` best scores, best first; ties keep sampling order, as generate's reranking. */
export function bestIndices(scores: Float32Array, keep: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, keep)
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** A number rounded for a report (4 significant decimals are plenty for scores and shares). */
export const round = (x: number, digits = 4): number => Number(x.toFixed(digits))
