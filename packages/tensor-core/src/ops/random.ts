import { InvalidArgumentError } from '../errors.js'
import type { Device } from '../device.js'
import { randomKernel, type RandomDist } from '../kernels/random.js'
import type { Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { mul } from './elementwise.js'

export interface RandomStreamOptions {
  /**
   * Draw from this seed instead of the device's stream, leaving `device.random` untouched;
   * with `offset` (default 0) the draw is reproducible anywhere.
   */
  seed?: number
  offset?: number
}

/** Counters for `count` values: from the explicit {seed, offset}, else reserved on the device stream. */
function counters(device: Device, count: number, opts: RandomStreamOptions): { seed: number; offset: number } {
  if (opts.seed === undefined) {
    if (opts.offset !== undefined) throw new InvalidArgumentError('random: an explicit offset needs an explicit seed')
    return { seed: device.random.seed, offset: device.random.take(count) }
  }
  const offset = opts.offset ?? 0
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`random: offset must be a non-negative integer, got ${offset}`)
  return { seed: opts.seed >>> 0, offset }
}

function draw(device: Device, shape: Shape, dist: RandomDist, a: number, b: number, opts: RandomStreamOptions): Tensor {
  const out = device.empty(shape, 'f32')
  const { seed, offset } = counters(device, out.size, opts)
  if (out.size > 0) device.backend.run(randomKernel, { dist, size: out.size, seed, offset, a, b }, [], [out.storage])
  return out
}

/** f32 samples of U[low, high) (default [0, 1)), on a 2⁻²⁴ grid. */
export function randomUniform(device: Device, shape: Shape, opts: RandomStreamOptions & { low?: number; high?: number } = {}): Tensor {
  return draw(device, shape, 'uniform', opts.low ?? 0, opts.high ?? 1, opts)
}

/** f32 samples of N(mean, std²) (default standard normal). */
export function randomNormal(device: Device, shape: Shape, opts: RandomStreamOptions & { mean?: number; std?: number } = {}): Tensor {
  return draw(device, shape, 'normal', opts.mean ?? 0, opts.std ?? 1, opts)
}

/** f32 samples of the standard Gumbel distribution (for gumbel-max / gumbel-softmax). */
export function randomGumbel(device: Device, shape: Shape, opts: RandomStreamOptions = {}): Tensor {
  return draw(device, shape, 'gumbel', 0, 1, opts)
}

/**
 * Inverted dropout: zeroes each element with probability `p` and scales the rest by
 * 1 / (1 − p). The mask is drawn once; the gradient flows through the same mask.
 * `training` defaults to true, as in torch.nn.functional.dropout; with `training: false`
 * (or p = 0) it returns `x` itself.
 */
export function dropout(x: Tensor, p: number, opts: RandomStreamOptions & { training?: boolean } = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new InvalidArgumentError(`dropout probability must be in [0, 1), got ${p}`)
  if (opts.training === false || p === 0) return x
  const scale = draw(x.device, x.shape, 'dropoutScale', p, 1 / (1 - p), opts)
  return mul(x, scale)
}
