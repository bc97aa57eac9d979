/** The benchmarked problems, shared by every runner so all peers time the same shapes. */
export const MATMULS = [
  { name: 'matmul 1024×1024×1024', m: 1024, k: 1024, n: 1024 },
  { name: 'matmul 256×512×2048', m: 256, k: 512, n: 2048 },
]
export const CONV = { name: 'conv2d 3×3 N8 64→64 32×32 p1', batch: 8, cin: 64, cout: 64, h: 32, w: 32, kernel: 3, padding: 1 }
export const DISPATCH = { name: 'tiny add (64 elements), amortised', count: 2000, size: 64 }

export const matmulFlops = ({ m, k, n }) => 2 * m * k * n
export const convFlops = (c) => 2 * c.batch * c.cout * c.h * c.w * c.cin * c.kernel * c.kernel

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Medians over `runs` runs of `iters` iterations each, after warm-up: wall ms per iteration,
 * and CPU ms per iteration by `cpuClock` (ms of CPU the work used, if given). The machine is
 * shared, so CPU time says what the work costs when other processes take the cores.
 */
export async function timeIt(step, { runs = 5, iters = 3, warmup = 2, sync = async () => {}, cpuClock } = {}) {
  for (let i = 0; i < warmup; i++) await step()
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
  return { ms: median(wall), cpuMs: cpuClock ? median(cpu) : null }
}

/** CPU ms this process has used (all threads). */
export const processCpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
