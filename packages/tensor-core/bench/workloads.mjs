/** The benchmarked problems, shared by every runner so all peers time the same shapes. */
import { readdirSync, readFileSync } from 'node:fs'

export const MATMULS = [
  { name: 'matmul 1024×1024×1024', m: 1024, k: 1024, n: 1024 },
  { name: 'matmul 256×512×2048', m: 256, k: 512, n: 2048 },
  // Generation: one new token per sample against a width-1024 MLP's up-projection.
  { name: 'matmul 1×1024×4096 (decode, M=1)', m: 1, k: 1024, n: 4096 },
  { name: 'matmul 8×1024×4096 (decode, M=8)', m: 8, k: 1024, n: 4096 },
]
// The dVAE's bottleneck res-block at 32×32: 3×3 convs inside, a 1×1 conv back to full width.
export const CONVS = [
  { name: 'conv2d 3×3 N8 64→64 32×32 p1', batch: 8, cin: 64, cout: 64, h: 32, w: 32, kernel: 3, padding: 1 },
  { name: 'conv2d 1×1 N8 64→256 32×32', batch: 8, cin: 64, cout: 256, h: 32, w: 32, kernel: 1, padding: 0 },
]
export const DISPATCH = { name: 'tiny add (64 elements), amortised', count: 2000, size: 64 }

export const matmulFlops = ({ m, k, n }) => 2 * m * k * n
export const convFlops = (c) => 2 * c.batch * c.cout * convOut(c).h * convOut(c).w * c.cin * c.kernel * c.kernel
export const convOut = (c) => ({ h: c.h + 2 * c.padding - c.kernel + 1, w: c.w + 2 * c.padding - c.kernel + 1 })

/** Deterministic inputs in [-0.5, 0.5), the same for every GPU peer. */
export const fill = (n, seed = 7919) => Float32Array.from({ length: n }, (_, i) => ((i * seed) % 1000) / 1000 - 0.5)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Medians over `runs` runs of `iters` iterations each, after warm-up: wall ms per iteration,
 * and CPU ms per iteration by `cpuClock` (ms of CPU the work used, if given). The machine is
 * shared, so CPU time says what the work costs when other processes take the cores. `sync`
 * ends each run (and the warm-up): the GPU runners read the last result back there, so a run
 * counts until its work has completed. `firstMs` is the first warm-up call, compiles included.
 */
export async function timeIt(step, { runs = 5, iters = 3, warmup = 2, sync = async () => {}, cpuClock } = {}) {
  const f0 = performance.now()
  await step()
  await sync()
  const firstMs = performance.now() - f0
  for (let i = 1; i < warmup; i++) await step()
  await sync()
  const wall = []
  const cpu = []
  for (let r = 0; r < runs; r++) {
    const c0 = cpuClock?.()
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) await step()
    await sync()
    wall.push((performance.now() - t0) / iters)
    if (cpuClock) cpu.push((cpuClock() - c0) / iters)
  }
  return { ms: median(wall), cpuMs: cpuClock ? median(cpu) : null, firstMs }
}

/**
 * A step/sync pair for GPU runners: `step` enqueues one op and keeps its output, `sync` reads
 * the last output back (the queue runs in order, so all of them have completed) and frees all.
 */
export function enqueueThenRead(enqueue, read, free) {
  let pending = []
  return {
    step: async () => {
      pending.push(await enqueue())
    },
    sync: async () => {
      if (pending.length) await read(pending.at(-1))
      pending.forEach(free)
      pending = []
    },
  }
}

/** CPU ms this process has used (all threads). */
export const processCpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * CPU ms used by this process's threads other than the main one (Linux): on a software
 * adapter those are the rasterizer's workers running the kernels, while the main thread
 * mostly spins in Dawn's event polling during sync. Null where /proc is unavailable.
 */
export function workerCpuMs() {
  try {
    const ticks = readdirSync('/proc/self/task')
      .filter((tid) => Number(tid) !== process.pid)
      .reduce((sum, tid) => {
        const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')
        return sum + Number(fields[11]) + Number(fields[12])
      }, 0)
    return ticks * 10
  } catch {
    return null
  }
}
