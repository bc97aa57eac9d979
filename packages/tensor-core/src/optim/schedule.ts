/**
 * Schedules as functions of the 0-based step: learning-rate multipliers for an optimizer
 * (`LrSchedule`) and the annealed hyper-parameters of a training recipe (a temperature, a loss
 * weight). Every model's trainer takes them from here, so one run's curves are laid out alike.
 */

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

/**
 * The usual recipe over a run of `steps`: linear warmup for `warmup` steps, then cosine decay to
 * `minFactor` at step `steps` (the cosine spans what is left after warmup, so a longer run
 * stretches it rather than cutting it short).
 */
export const warmupCosine = (steps: number, warmup: number, minFactor = 0): LrSchedule => warmupThen(warmup, cosineDecay(steps - warmup, minFactor))

/** Exponential (geometric) interpolation from `start` to `end` over `steps`, then flat at `end` (the dVAE's τ: 1 → 1/16). */
export const exponentialAnneal =
  (start: number, end: number, steps: number): ((step: number) => number) =>
  (step) =>
    start * (end / start) ** Math.min(1, step / Math.max(1, steps))

/** Cosine interpolation from `start` to `end` over `steps`, then flat at `end`. */
export const cosineAnneal =
  (start: number, end: number, steps: number): ((step: number) => number) =>
  (step) =>
    end + (start - end) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, step / Math.max(1, steps))))

/** Linear ramp from 0 to `max` over `steps`, then flat (`max` from the start when steps ≤ 0; the dVAE's KL weight). */
export const linearRamp =
  (max: number, steps: number): ((step: number) => number) =>
  (step) =>
    steps <= 0 ? max : max * Math.min(1, step / steps)
