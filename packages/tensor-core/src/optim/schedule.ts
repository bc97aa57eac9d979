/** A learning-rate multiplier as a function of the step count (0-based). */
export type LrSchedule = (step: number) => number

/** Linear ramp 0 → 1 over `steps` (starting above 0 so step 0 still learns). */
export const linearWarmup =
  (steps: number): LrSchedule =>
  (step) =>
    steps <= 0 ? 1 : Math.min(1, (step + 1) / steps)

/** Cosine decay from 1 to `minFactor` over `steps`, then flat. */
export const cosineDecay =
  (steps: number, minFactor = 0): LrSchedule =>
  (step) =>
    minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * Math.min(step / Math.max(steps, 1), 1)))

/** gamma^step. */
export const exponentialDecay =
  (gamma: number): LrSchedule =>
  (step) =>
    gamma ** step

/** Warmup for `warmup` steps, then `after` (counted from the end of warmup). */
export const warmupThen =
  (warmup: number, after: LrSchedule): LrSchedule =>
  (step) =>
    step < warmup ? linearWarmup(warmup)(step) : after(step - warmup)
