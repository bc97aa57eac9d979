import { afterAll, expect } from 'vitest'
import { Device } from '@tessera/tensor-core'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

const devices = new Map<string, Promise<Device>>()

/** One device per backend per test file (Dawn's native device is heavy). */
export function device(backend: 'cpu' | 'webgpu'): Promise<Device> {
  let d = devices.get(backend)
  if (!d) {
    d = Device.create({ backend })
    devices.set(backend, d)
  }
  return d
}

afterAll(async () => {
  for (const d of devices.values()) (await d).destroy()
  devices.clear()
})

/** |a − e| ≤ atol + rtol·|e| everywhere, reporting the first offending index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`${what}: mismatch at ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`)
  }
}

/** Largest |a − e| / max(|e|, floor): a relative error that ignores values near zero. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): number {
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), floor))
  return worst
}
