import type { Storage } from './backend/backend.js'
import type { Device } from './device.js'
import { allocHost } from './dtype.js'
import type { Kernel } from './kernel.js'

/** One distinct dispatch of a profiled workload (same kernel, pipeline and parameters). */
export interface KernelProfile {
  kernel: string
  /** The pipeline key (compile-time choices). */
  key: string
  params: unknown
  /** Times the workload dispatched it. */
  count: number
  /** Best-of-3 milliseconds per dispatch, replayed alone. */
  ms: number
  /** count × ms: its share of the workload. */
  totalMs: number
}

interface Recorded {
  kernel: Kernel<unknown>
  params: unknown
  inputs: StorageShape[]
  outputs: StorageShape[]
}

type StorageShape = { texture: [number, number] } | { dtype: Storage['dtype']; size: number }

function shapeOf(s: Storage): StorageShape {
  const texture = (s as { texture?: { width: number; height: number } }).texture
  return texture ? { texture: [texture.width, texture.height] } : { dtype: s.dtype, size: s.size }
}

/**
 * Where a workload's device time goes, kernel by kernel: runs `workload` once while recording
 * every dispatch, then replays each distinct dispatch `repeats` times on scratch storages of
 * the same sizes and times it (syncing around each batch of repeats), so the numbers add up
 * to the workload's kernel time without needing timestamp queries. Storage contents are not
 * reproduced: data-dependent kernels (gathers, argmax) time on zero-filled inputs.
 * Returns the dispatches most expensive first.
 */
export async function profileKernels(device: Device, workload: () => Promise<void>, opts: { repeats?: number } = {}): Promise<KernelProfile[]> {
  const repeats = opts.repeats ?? 10
  const backend = device.backend
  const recorded = new Map<string, Recorded & { count: number }>()
  const run = backend.run
  backend.run = function <P>(kernel: Kernel<P>, params: P, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    const id = `${kernel.name}|${kernel.key(params)}|${JSON.stringify(params)}`
    const seen = recorded.get(id)
    if (seen) seen.count++
    else recorded.set(id, { kernel: kernel as Kernel<unknown>, params, inputs: inputs.map(shapeOf), outputs: outputs.map(shapeOf), count: 1 })
    run.call(backend, kernel, params, inputs, outputs)
  }
  try {
    await workload()
  } finally {
    backend.run = run
  }
  await backend.sync()
  const alloc = (s: StorageShape) => ('texture' in s ? backend.allocTexture(s.texture[0], s.texture[1]) : backend.alloc(s.dtype, s.size))
  // Inputs are zero-filled: pooled memory holds stale values, and an id read from them would be
  // out of range in kernels that check ids (KERNEL_FAULTS), leaving a fault that the workload's
  // next read would throw.
  const input = (s: StorageShape) => {
    const storage = alloc(s)
    if (!('texture' in s)) backend.write(storage, allocHost(s.dtype, s.size))
    return storage
  }
  const profiles: KernelProfile[] = []
  for (const r of recorded.values()) {
    const inputs = r.inputs.map(input)
    const outputs = r.outputs.map(alloc)
    run.call(backend, r.kernel, r.params, inputs, outputs) // compiles, warms caches
    await backend.sync()
    let best = Infinity
    for (let trial = 0; trial < 3; trial++) {
      const start = performance.now()
      for (let i = 0; i < repeats; i++) run.call(backend, r.kernel, r.params, inputs, outputs)
      await backend.sync()
      best = Math.min(best, (performance.now() - start) / repeats)
    }
    for (const s of [...inputs, ...outputs]) backend.release(s)
    profiles.push({ kernel: r.kernel.name, key: r.kernel.key(r.params), params: r.params, count: r.count, ms: best, totalMs: best * r.count })
  }
  return profiles.sort((a, b) => b.totalMs - a.totalMs)
}
