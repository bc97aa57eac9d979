import { describe, expect, it } from 'vitest'
import { ResourcePool } from '../src/backend/resource-pool.js'

/** A stand-in GPU resource that counts its destruction. */
class Fake {
  destroyed = false
  constructor(readonly id: number) {}
  destroy(): void {
    this.destroyed = true
  }
}

/** A pool of fakes whose size class is the key the test gives. */
class FakePool extends ResourcePool<Fake> {
  created = 0
  acquireFake(key: string, bytes: number): Fake {
    return this.acquire(key, bytes, () => new Fake(this.created++))
  }
}

function pool(idleSubmits: number) {
  const p = new FakePool(idleSubmits)
  return { p, acquire: (key: string, bytes: number) => p.acquireFake(key, bytes), created: () => p.created }
}

describe('ResourcePool', () => {
  it('reuses a released resource only after the next submit, by size class', () => {
    const { p, acquire, created } = pool(64)
    const a = acquire('256', 256)
    p.release(a)
    expect(acquire('256', 256)).not.toBe(a) // not yet submitted: its last use may still be pending
    p.onSubmit()
    expect(acquire('512', 512)).not.toBe(a)
    expect(acquire('256', 256)).toBe(a)
    expect(created()).toBe(3)
    expect(p.inUse).toBe(3)
  })

  it('keeps a working set that is re-acquired every step, however large, and makes it once', () => {
    const { p, acquire, created } = pool(8)
    const sizes = Array.from({ length: 50 }, (_, i) => [`${i % 7}`, 1 << 20] as const) // 50 MiB in 7 size classes
    for (let step = 0; step < 20; step++) {
      // Three submits a step, each window's resources released before the next.
      for (let window = 0; window < 3; window++) {
        const held = sizes.slice(window * 17, window * 17 + 17).map(([key, bytes]) => acquire(key, bytes))
        for (const r of held) p.release(r)
        p.onSubmit()
      }
    }
    const after = created()
    for (let window = 0; window < 3; window++) {
      const held = sizes.slice(window * 17, window * 17 + 17).map(([key, bytes]) => acquire(key, bytes))
      for (const r of held) p.release(r)
      p.onSubmit()
    }
    expect(created()).toBe(after)
    expect(after).toBe(21) // 7 size classes × the 3 of a class one window holds at most
  })

  it('destroys a parked resource left unused for idleSubmits submits, oldest first, and keeps the ones in use', () => {
    const { p, acquire, created } = pool(3)
    const stale = acquire('old', 100)
    const live = acquire('new', 100)
    p.release(stale)
    p.release(live)
    p.onSubmit() // both parked at submit 1
    for (let i = 0; i < 3; i++) {
      const again = acquire('new', 100)
      expect(again).toBe(live)
      p.release(again)
      p.onSubmit()
    }
    expect(stale.destroyed).toBe(true) // parked at 1, unused by submit 4
    expect(live.destroyed).toBe(false)
    expect(p.pooledBytes).toBe(100)
    expect(created()).toBe(2)
    expect(acquire('old', 100)).not.toBe(stale)
  })

  it('rejects a resource it did not create', () => {
    const { p } = pool(64)
    expect(() => p.release(new Fake(99))).toThrow(/did not create/)
  })
})
