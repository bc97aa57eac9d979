import { afterAll } from 'vitest'
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

/** Largest |a − e| / max(|e|, floor): a relative error that ignores values near zero. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`)
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), floor))
  return worst
}
