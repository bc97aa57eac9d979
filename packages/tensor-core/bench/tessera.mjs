/**
 * Tessera on its WebGPU adapter: the same workloads, each run's outputs enqueued and the last
 * read back (enqueueThenRead), after the small cases agree with the CPU reference.
 */
import { Device, noGrad, ops } from '../dist/index.js'
import { checkPeer } from './check.mjs'
import { CONVS, DISPATCH, MATMULS, enqueueThenRead, fill, timeIt, workerCpuMs } from './workloads.mjs'

export async function runTessera() {
  const device = await Device.create({ backend: 'webgpu' })
  const cpuClock = device.adapter.software && workerCpuMs() !== null ? workerCpuMs : undefined
  const time = (enqueue) => {
    const { step, sync } = enqueueThenRead(enqueue, (y) => y.read(), (y) => y.dispose())
    return timeIt(step, { sync, cpuClock })
  }
  try {
    return await noGrad(async () => {
      const readOnce = async (inputs, op) => {
        const y = op(...inputs)
        try {
          return await y.read()
        } finally {
          ;[...inputs, y].forEach((t) => t.dispose())
        }
      }
      await checkPeer('Tessera', {
        matmul: (a, b, mm) => readOnce([device.tensor(a, [mm.m, mm.k]), device.tensor(b, [mm.k, mm.n])], ops.matmul),
        conv: (x, w, c) => readOnce([device.tensor(x, [c.batch, c.cin, c.h, c.w]), device.tensor(w, [c.cout, c.cin, c.kernel, c.kernel])], (X, W) => ops.conv2d(X, W, { padding: c.padding })),
      })
      const matmul = []
      for (const mm of MATMULS) {
        const a = device.tensor(fill(mm.m * mm.k), [mm.m, mm.k])
        const b = device.tensor(fill(mm.k * mm.n), [mm.k, mm.n])
        matmul.push(await time(() => ops.matmul(a, b)))
        a.dispose()
        b.dispose()
      }
      const conv = []
      for (const c of CONVS) {
        const x = device.tensor(fill(c.batch * c.cin * c.h * c.w), [c.batch, c.cin, c.h, c.w])
        const w = device.tensor(fill(c.cout * c.cin * c.kernel ** 2), [c.cout, c.cin, c.kernel, c.kernel])
        conv.push(await time(() => ops.conv2d(x, w, { padding: c.padding })))
        x.dispose()
        w.dispose()
      }
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
