import { DatasetError } from './errors.js'
import { Mulberry32 } from './random.js'

/** Where an EpochSampler stands: JSON-serialisable, so a training checkpoint can resume the data order exactly. */
export interface SamplerState {
  seed: number
  epoch: number
  cursor: number
}

/**
 * Batches of indices drawn without replacement: each epoch is a fresh permutation seeded by
 * (seed, epoch); a batch that would cross the epoch's end takes the rest from the next one.
 */
export class EpochSampler {
  private order: Int32Array
  private epoch = 0
  private cursor = 0

  constructor(
    readonly length: number,
    readonly batchSize: number,
    private readonly seed = 0,
  ) {
    if (!Number.isInteger(length) || length < 1) throw new DatasetError(`a sampler needs a non-empty dataset, got length ${length}`)
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new DatasetError(`batch size must be a positive integer, got ${batchSize}`)
    this.order = this.permutation(0)
  }

  next(): number[] {
    const out: number[] = []
    while (out.length < this.batchSize) {
      if (this.cursor === this.length) {
        this.epoch++
        this.cursor = 0
        this.order = this.permutation(this.epoch)
      }
      out.push(this.order[this.cursor++]!)
    }
    return out
  }

  state(): SamplerState {
    return { seed: this.seed, epoch: this.epoch, cursor: this.cursor }
  }

  setState(state: SamplerState): void {
    if (state.seed !== this.seed) throw new DatasetError(`sampler state was saved with seed ${state.seed}, this sampler uses ${this.seed}`)
    if (state.cursor < 0 || state.cursor > this.length) throw new DatasetError(`sampler cursor ${state.cursor} is outside a dataset of ${this.length}`)
    this.epoch = state.epoch
    this.cursor = state.cursor
    this.order = this.permutation(state.epoch)
  }

  private permutation(epoch: number): Int32Array {
    const rng = new Mulberry32((this.seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0)
    const order = Int32Array.from({ length: this.length }, (_, i) => i)
    for (let i = this.length - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      const t = order[i]!
      order[i] = order[j]!
      order[j] = t
    }
    return order
  }
}
