import { afterAll, expect } from 'vitest'
import { Device, nn, type Tensor } from '../src/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

let gpuPromise: Promise<Device> | null = null
let cpuPromise: Promise<Device> | null = null

/** One WebGPU (Dawn + lavapipe) device per test file; the suite requires an adapter. */
export function gpuDevice(): Promise<Device> {
  gpuPromise ??= Device.create({ backend: 'webgpu' })
  return gpuPromise
}

export function cpuDevice(): Promise<Device> {
  cpuPromise ??= Device.create({ backend: 'cpu' })
  return cpuPromise
}

/** Both backends by name, for `describe.each`. */
export const BACKENDS: [string, () => Promise<Device>][] = [
  ['cpu', cpuDevice],
  ['webgpu', gpuDevice],
]

afterAll(async () => {
  if (gpuPromise) (await gpuPromise).destroy()
  gpuPromise = null
  cpuPromise = null
})

/** Deterministic pseudo-random floats in [lo, hi) (the library's seeded host generator). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return nn.init.uniform(n, lo, hi, new nn.HostRandom(seed))
}

export function randomInts(n: number, seed: number, lo: number, hi: number): Int32Array {
  return Int32Array.from(randomArray(n, seed, lo, hi), (v) => Math.floor(v))
}

/** |a - b| <= atol + rtol·|b| elementwise, with the first offending index in the message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (Number.isNaN(e) && Number.isNaN(a)) continue
    if (a === e) continue
    // An infinite expectation would otherwise accept any value (∞ <= ∞).
    if (!Number.isFinite(e) || !(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`mismatch at ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`)
    }
  }
}

/** Runs `build` on the CPU reference and on WebGPU with the same inputs; compares outputs. */
export async function compareBackends(
  build: (d: Device) => Tensor | Tensor[],
  opts: { rtol?: number; atol?: number } = {},
): Promise<void> {
  const [cpu, gpu] = [await cpuDevice(), await gpuDevice()]
  const expected = [build(cpu)].flat()
  const actual = [build(gpu)].flat()
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i]!.shape).toEqual(expected[i]!.shape)
    expect(actual[i]!.dtype).toBe(expected[i]!.dtype)
    expectClose(await actual[i]!.read(), await expected[i]!.read(), opts.rtol, opts.atol)
    actual[i]!.dispose()
    expected[i]!.dispose()
  }
}

/** Dispatches per kernel name while `fn` runs. */
export function countDispatches(device: Device, fn: () => void): Map<string, number> {
  const backend = device.backend
  const run = backend.run.bind(backend)
  const counts = new Map<string, number>()
  backend.run = (kernel, params, inputs, outputs) => {
    counts.set(kernel.name, (counts.get(kernel.name) ?? 0) + 1)
    run(kernel, params, inputs, outputs)
  }
  try {
    fn()
  } finally {
    delete (backend as { run?: unknown }).run
  }
  return counts
}
