import { noGrad } from './autograd.js'
import type { Device } from './device.js'
import { InvalidArgumentError } from './errors.js'
import { concat, slice } from './ops/layout.js'
import { tidy } from './scope.js'
import type { Tensor } from './tensor.js'

/*
 * Splitting a batch so that no buffer of a pass outgrows what the device can bind
 * (Device.maxTensorBytes). The sizes are measured, not estimated: one item's pass shows the
 * largest buffer it allocates, the kernels' own scratch included (packed matmul operands,
 * unfolded convolution inputs), so a model needs no formula for its peak.
 */

/**
 * Bytes of the largest buffer `fn` allocates on `device` (refused allocations included), with
 * kernels' scratch; `fn` runs without recording gradients and its tensors are freed.
 */
export function measurePeakBytes(device: Device, fn: () => unknown): number {
  const backend = device.backend
  const outer = backend.peakAllocBytes
  backend.peakAllocBytes = 0
  let peak = 0
  try {
    noGrad(() => tidy(() => void fn()))
  } finally {
    peak = backend.peakAllocBytes
    backend.peakAllocBytes = Math.max(outer, peak)
  }
  return peak
}

export interface ItemsPerPassOptions {
  /**
   * Remember the measurement under this object (the model or module that runs the pass) and
   * `shape`, so only the first call pays for the one-item pass.
   */
  key?: object
  /** What, besides `key`, the per-item peak depends on: an item's shape and dtype, say. */
  shape?: string
}

const measured = new WeakMap<Device, WeakMap<object, Map<string, number>>>()

/**
 * How many items one pass may take so that no buffer outgrows `device.maxTensorBytes`:
 * `onePass` runs one item and its largest buffer, times the items, must fit (a pass's buffers
 * grow at most linearly with its items; padding rounds up less for many items than for one).
 * At least 1; unbounded (Infinity) where the device sets no limit.
 */
export function itemsPerPass(device: Device, onePass: () => unknown, opts: ItemsPerPassOptions = {}): number {
  const limit = device.maxTensorBytes
  if (!Number.isFinite(limit)) return Number.POSITIVE_INFINITY
  let cache: Map<string, number> | undefined
  if (opts.key) {
    let byKey = measured.get(device)
    if (!byKey) measured.set(device, (byKey = new WeakMap()))
    cache = byKey.get(opts.key)
    if (!cache) byKey.set(opts.key, (cache = new Map()))
  }
  const id = opts.shape ?? ''
  let peak = cache?.get(id)
  if (peak === undefined) {
    peak = measurePeakBytes(device, onePass)
    cache?.set(id, peak)
  }
  return Math.max(1, Math.floor(limit / Math.max(1, peak)))
}

/**
 * `run` over slices of `x` along dim 0, each as large as `itemsPerPass` allows, results
 * concatenated along dim 0: one pass over all of `x` when it fits. For inference passes (no
 * gradient flows through the slicing): `run` must treat items independently (the results are
 * those of one pass) and draw no random numbers (the measuring pass would move the device's
 * stream).
 */
export function inSlices(x: Tensor, run: (slice: Tensor) => Tensor, opts: { key?: object } = {}): Tensor {
  if (x.rank === 0) throw new InvalidArgumentError('inSlices needs a tensor with a batch dim')
  const n = x.shape[0]!
  if (n <= 1) return run(x)
  const shape = `${x.dtype}[${x.shape.slice(1).join(',')}]`
  const per = itemsPerPass(x.device, () => run(slice(x, [{ start: 0, end: 1 }])), { key: opts.key, shape })
  if (n <= per) return run(x)
  const parts: Tensor[] = []
  for (let start = 0; start < n; start += per) parts.push(tidy(() => run(slice(x, [{ start, end: Math.min(n, start + per) }]))))
  const out = concat(parts, 0)
  for (const part of parts) part.dispose()
  return out
}
