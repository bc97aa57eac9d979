/**
 * Annealing schedules of dVAE training, as functions of the 0-based step. The paper anneals
 * τ from 1 to 1/16 and raises the KL weight β from 0 to 6.6; shorter runs compress both.
 */

/** Exponential (geometric) interpolation from `start` to `end` over `steps`, then flat at `end`. */
export function exponentialAnneal(start: number, end: number, steps: number): (step: number) => number {
  return (step) => start * (end / start) ** Math.min(1, step / Math.max(1, steps))
}

/** Cosine interpolation from `start` to `end` over `steps`, then flat. */
export function cosineAnneal(start: number, end: number, steps: number): (step: number) => number {
  return (step) => end + (start - end) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, step / Math.max(1, steps))))
}

/** Linear ramp from 0 to `max` over `steps`, then flat (`max` from the start when steps ≤ 0). */
export function linearRamp(max: number, steps: number): (step: number) => number {
  return (step) => (steps <= 0 ? max : max * Math.min(1, step / steps))
}
