/** Random source for BPE-dropout: returns floats in [0, 1). */
export type Random = () => number

/**
 * Mulberry32: tiny, fast, seedable, good enough for dropout decisions. A seed makes dropout
 * reproducible across runs and between Node and browsers (Math.random is neither).
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
