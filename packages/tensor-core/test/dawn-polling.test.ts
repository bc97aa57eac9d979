import { promisify } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { PACE_MS, pacedSetImmediate, SPIN_MS } from '../src/backend/dawn-polling.js'
import { ops, tidy } from '../src/index.js'
import { gpuDevice } from './helpers.js'

/** Fake queues and clock: callbacks queued run when the test says, each recording how it was queued. */
function harness() {
  let time = 0
  const queued: { how: string; run: () => void }[] = []
  const setImmediate = pacedSetImmediate(
    (callback, ...args) => queued.push({ how: 'immediate', run: () => callback(...args) }),
    (callback, ms) => queued.push({ how: `timer ${ms}`, run: () => callback() }),
    () => time,
  )
  return {
    setImmediate,
    advance: (ms: number) => (time += ms),
    /** Runs the oldest queued callback; returns how it had been queued. */
    runNext: () => {
      const next = queued.shift()!
      next.run()
      return next.how
    },
    pending: () => queued.length,
  }
}

/** A native function (what Dawn's Napi callbacks are): bound functions print as [native code]. */
const native = (f: () => void) => f.bind(null)

describe('paced setImmediate (Dawn event polling)', () => {
  it('passes JavaScript callbacks and their arguments straight through, however often they re-queue', () => {
    const h = harness()
    const seen: number[] = []
    const loop = (i: number) => {
      seen.push(i)
      h.advance(0.5)
      if (i < 10) h.setImmediate(loop as (...args: unknown[]) => void, i + 1)
    }
    h.setImmediate(loop as (...args: unknown[]) => void, 0)
    const hows = []
    while (h.pending()) hows.push(h.runNext())
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(hows)).toEqual(new Set(['immediate']))
  })

  it('runs a native polling chain immediately for SPIN_MS, then one tick per PACE_MS on a timer', () => {
    const h = harness()
    let ticks = 0
    const poll = native(() => {
      ticks++
      h.advance(SPIN_MS / 4)
      if (ticks < 12) h.setImmediate(poll)
    })
    h.setImmediate(poll)
    const hows = []
    while (h.pending()) hows.push(h.runNext())
    expect(ticks).toBe(12)
    // Ticks queued at 0, 1/4, 2/4 and 3/4 of SPIN_MS spin; from SPIN_MS on they wait.
    expect(hows.slice(0, 4)).toEqual(Array(4).fill('immediate'))
    expect(hows.slice(4)).toEqual(Array(8).fill(`timer ${PACE_MS}`))
  })

  it('starts a new chain (spinning again) for a native callback queued outside a tick', () => {
    const h = harness()
    let ticks = 0
    const poll = native(() => {
      ticks++
      h.advance(SPIN_MS)
      if (ticks % 3 !== 0) h.setImmediate(poll)
    })
    h.setImmediate(poll)
    const first = []
    while (h.pending()) first.push(h.runNext())
    expect(first).toEqual(['immediate', `timer ${PACE_MS}`, `timer ${PACE_MS}`])
    // The chain ended (its last tick queued nothing); the next wait starts fresh.
    h.advance(50)
    h.setImmediate(poll)
    expect(h.runNext()).toBe('immediate')
  })

  it('never delays a native callback queued once (a promise resolve, say)', () => {
    const h = harness()
    for (let i = 0; i < 3; i++) {
      let resolved = false
      h.setImmediate(native(() => (resolved = true)))
      h.advance(10 * SPIN_MS)
      expect(h.runNext()).toBe('immediate')
      expect(resolved).toBe(true)
    }
  })
})

describe('Dawn on Node with the paced setImmediate', () => {
  it('is installed by the WebGPU backend, keeps promisify working, and waits on timers during a long read', async () => {
    const d = await gpuDevice()
    expect((globalThis.setImmediate as unknown as Record<symbol, unknown>)[Symbol.for('tessera.tensor-core.pacedSetImmediate')]).toBe(true)
    await expect(promisify(setImmediate)('value')).resolves.toBe('value')
    const n = 384
    const x = d.tensor(Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3), [n, n])
    const timers = vi.spyOn(globalThis, 'setTimeout')
    try {
      // Several dependent products: long enough on any adapter here for Dawn to poll past SPIN_MS.
      const y = tidy(() => ops.sum(ops.matmul(ops.matmul(ops.matmul(x, x), x), x)))
      expect(Number.isFinite(await y.item())).toBe(true)
      y.dispose()
      expect(timers.mock.calls.filter(([, ms]) => ms === PACE_MS).length).toBeGreaterThan(0)
    } finally {
      timers.mockRestore()
      x.dispose()
    }
  })
})
