/** Tessera on its WebGPU adapter: the same workloads, timed with device.sync() around many iterations. */
import { Device, noGrad, ops } from '../dist/index.js'
import { readdirSync, readFileSync } from 'node:fs'
import { CONV, DISPATCH, MATMULS, timeIt } from './workloads.mjs'

/**
 * CPU ms used by this process's threads other than the main one (Linux): on a software
 * adapter those are the rasterizer's workers running the kernels, while the main thread
 * mostly spins in Dawn's event polling during sync. Null where /proc is unavailable.
 */
function workerCpuMs() {
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

export async function runTessera() {
  const device = await Device.create({ backend: 'webgpu' })
  const sync = () => device.sync()
  const cpuClock = device.adapter.software && workerCpuMs() !== null ? workerCpuMs : undefined
  const fill = (n) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5)
  try {
    return await noGrad(async () => {
      const matmul = []
      for (const mm of MATMULS) {
        const a = device.tensor(fill(mm.m * mm.k), [mm.m, mm.k])
        const b = device.tensor(fill(mm.k * mm.n), [mm.k, mm.n])
        matmul.push(await timeIt(() => ops.matmul(a, b).dispose(), { sync, cpuClock }))
        a.dispose()
        b.dispose()
      }
      const x = device.tensor(fill(CONV.batch * CONV.cin * CONV.h * CONV.w), [CONV.batch, CONV.cin, CONV.h, CONV.w])
      const w = device.tensor(fill(CONV.cout * CONV.cin * CONV.kernel ** 2), [CONV.cout, CONV.cin, CONV.kernel, CONV.kernel])
      const conv = await timeIt(() => ops.conv2d(x, w, { padding: CONV.padding }).dispose(), { sync, cpuClock })
      // Many tiny dispatches recorded back to back, then one read: the per-dispatch cost.
      const t = device.tensor(fill(DISPATCH.size), [DISPATCH.size])
      const { ms: batchMs } = await timeIt(
        async () => {
          for (let i = 0; i < DISPATCH.count; i++) ops.add(t, t).dispose()
          await t.read()
        },
        { iters: 1 },
      )
      return { adapter: device.adapter.description, software: device.adapter.software, matmul, conv, dispatchUs: (batchMs * 1000) / DISPATCH.count }
    })
  } finally {
    device.destroy()
  }
}
