import { InvalidArgumentError } from '@tessera/tensor-core'
/**
 * Codebook usage of a set of tokens: perplexity = exp(entropy of the empirical code
 * distribution), between 1 (one code used) and the vocabulary size (all used equally).
 */
export function codebookPerplexity(tokens: ArrayLike<number>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize)
  for (let i = 0; i < tokens.length; i++) counts[tokens[i]!]!++
  let entropy = 0
  for (const c of counts) {
    if (c > 0) {
      const p = c / tokens.length
      entropy -= p * Math.log(p)
    }
  }
  return Math.exp(entropy)
}

/** Peak signal-to-noise ratio in dB of images in [0, 1]: 10·log10(1 / MSE). */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new InvalidArgumentError(`psnr needs two non-empty arrays of one length, got ${a.length} and ${b.length}`)
  let se = 0
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2
  return 10 * Math.log10(1 / Math.max(se / a.length, 1e-12))
}

/**
 * Tracks when each code was last chosen, so "dead" codes (unused for `window` steps) can be
 * counted over many batches rather than one. Its state is JSON for checkpoints.
 */
export class CodeUsage {
  private lastSeen: Int32Array

  constructor(
    readonly vocabSize: number,
    readonly window: number,
  ) {
    this.lastSeen = new Int32Array(vocabSize).fill(-1)
  }

  record(step: number, tokens: ArrayLike<number>): void {
    for (let i = 0; i < tokens.length; i++) this.lastSeen[tokens[i]!] = step
  }

  /** Codes not chosen in the last `window` steps up to `step` (counting from step 0). */
  deadCodes(step: number): number {
    let dead = 0
    for (const s of this.lastSeen) if (s < 0 || step - s >= this.window) dead++
    return dead
  }

  state(): number[] {
    return Array.from(this.lastSeen)
  }

  setState(lastSeen: readonly number[]): void {
    if (lastSeen.length !== this.vocabSize) throw new InvalidArgumentError(`code usage state has ${lastSeen.length} codes, the model ${this.vocabSize}`)
    this.lastSeen = Int32Array.from(lastSeen)
  }
}
