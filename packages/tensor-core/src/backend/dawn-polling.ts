/**
 * Dawn's Node binding waits for GPU work (mapAsync, onSubmittedWorkDone, pipeline creation) by
 * polling: for as long as anything is pending it re-queues `wgpuInstanceProcessEvents` with
 * `setImmediate`, creating a native callback per tick (crbug.com/dawn/1127). The main thread
 * spins at 100 % of a core and fills the heap: measured here, a dVAE training step's waits
 * allocated ~100 MB/s and ran a full GC every ~0.2 s. On a software adapter (lavapipe) that
 * core is one the adapter's own worker threads need.
 *
 * Dawn looks `setImmediate` up on the global object at every tick, so wrapping it paces the
 * loop: a chain of ticks runs as Dawn queues it for its first `SPIN_MS`, then one tick per
 * `PACE_MS` on a timer. A wait that ends within SPIN_MS is as fast as before; a longer one
 * ends at most ~PACE_MS later than it would have. emoji-32's dVAE training step on lavapipe
 * (2 cores) went from 635 to 403 ms, and the process's CPU time per step from 1,206 to 701 ms
 * (packages/dvae/bench/dawn-polling.mjs).
 *
 * Only native callbacks are paced, and only after they have re-queued themselves for
 * SPIN_MS: Dawn's callbacks are native functions, so a JavaScript callback, or a native one
 * queued once (`setImmediate(resolve)`), runs exactly as before. A paced callback is queued
 * on a timer, so `clearImmediate` cannot cancel it (Dawn never cancels its ticks). The chain
 * state is one for the process: a native callback queued from outside a tick while Dawn's
 * chain runs restarts the spin window, which costs at most SPIN_MS of spinning.
 */

export const SPIN_MS = 1
export const PACE_MS = 1

type Callback = (...args: unknown[]) => void
type Queue = (callback: Callback, ...args: unknown[]) => unknown

const NATIVE_SOURCE = /\{\s*\[native code\]\s*\}\s*$/
const isNative = (f: unknown): f is Callback => typeof f === 'function' && NATIVE_SOURCE.test(Function.prototype.toString.call(f))

/**
 * A `setImmediate` that passes JavaScript callbacks to `immediate` and paces chains of native
 * ones: a native callback queued while another one runs continues that one's chain; one
 * queued from anywhere else starts a chain. Clock and queues are parameters for the tests.
 */
export function pacedSetImmediate(immediate: Queue, timer: (callback: Callback, ms: number) => unknown, now: () => number = () => performance.now()): Queue {
  let inNativeTick = false
  let chainStart = 0
  return (callback, ...args) => {
    if (!isNative(callback)) return immediate(callback, ...args)
    if (!inNativeTick) chainStart = now()
    const tick = () => {
      inNativeTick = true
      try {
        callback(...args)
      } finally {
        inNativeTick = false
      }
    }
    return now() - chainStart < SPIN_MS ? immediate(tick) : timer(tick, PACE_MS)
  }
}

const PACED = Symbol.for('tessera.tensor-core.pacedSetImmediate')

/** Replaces Node's global `setImmediate` with the paced one, once per process (or realm). */
export function paceDawnPolling(): void {
  const g = globalThis as unknown as { setImmediate?: Queue & { [PACED]?: true } }
  const real = g.setImmediate
  if (!real || real[PACED]) return
  const paced = pacedSetImmediate(real, (callback, ms) => setTimeout(callback, ms))
  // Keep what hangs off the original (util.promisify.custom, __promisify__).
  for (const key of Reflect.ownKeys(real)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue
    Object.defineProperty(paced, key, Object.getOwnPropertyDescriptor(real, key)!)
  }
  Object.defineProperty(paced, PACED, { value: true })
  g.setImmediate = paced
}
