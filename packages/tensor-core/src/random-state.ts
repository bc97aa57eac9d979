/**
 * State of a counter-based random stream: a seed and how many values were drawn. Random ops
 * reserve a range of counters and compute each value from (seed, counter) alone, so the GPU
 * and CPU give the same numbers, and saving {seed, offset} in a checkpoint resumes exactly.
 */
export class RandomGenerator {
  private offsetValue = 0

  constructor(private seedValue: number) {
    this.reseed(seedValue)
  }

  get seed(): number {
    return this.seedValue
  }

  get offset(): number {
    return this.offsetValue
  }

  reseed(seed: number): void {
    this.seedValue = seed >>> 0
    this.offsetValue = 0
  }

  /** Reserves `count` counters; returns the first. Offsets stay exact integers up to 2^53. */
  take(count: number): number {
    const start = this.offsetValue
    this.offsetValue += count
    return start
  }

  state(): { seed: number; offset: number } {
    return { seed: this.seedValue, offset: this.offsetValue }
  }

  setState(state: { seed: number; offset: number }): void {
    this.seedValue = state.seed >>> 0
    this.offsetValue = state.offset
  }
}
