/** Tessera on its WebGPU adapter: the same workloads, timed with device.sync() around many iterations. */
import { Device, noGrad, ops } from '../dist/index.js'
import { CONV, DISPATCH, MATMULS, medianMs } from './workloads.mjs'

export async function runTessera() {
  const device = await Device.create({ backend: 'webgpu' })
  const sync = () => device.sync()
  const fill = (n) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5)
  try {
    return await noGrad(async () => {
      const matmul = []
      for (const mm of MATMULS) {
        const a = device.tensor(fill(mm.m * mm.k), [mm.m, mm.k])
        const b = device.tensor(fill(mm.k * mm.n), [mm.k, mm.n])
        matmul.push(await medianMs(() => ops.matmul(a, b).dispose(), { sync }))
        a.dispose()
        b.dispose()
      }
      const x = device.tensor(fill(CONV.batch * CONV.cin * CONV.h * CONV.w), [CONV.batch, CONV.cin, CONV.h, CONV.w])
      const w = device.tensor(fill(CONV.cout * CONV.cin * CONV.kernel ** 2), [CONV.cout, CONV.cin, CONV.kernel, CONV.kernel])
      const conv = await medianMs(() => ops.conv2d(x, w, { padding: CONV.padding }).dispose(), { sync })
      // Many tiny dispatches recorded back to back, then one read: the per-dispatch cost.
      const t = device.tensor(fill(DISPATCH.size), [DISPATCH.size])
      const batchMs = await medianMs(
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
