import { it } from 'vitest'
import { packBKernel, packedBSize, packedMatmulKernel } from '../src/kernels/matmul-texture.js'
import type { MatmulParams } from '../src/kernels/matmul.js'
import { gpuDevice } from './helpers.js'

it('probe', async () => {
  const d = await gpuDevice()
  const [M, K, N] = (process.env.SHAPE ?? '1024,1024,1024').split(',').map(Number) as [number, number, number]
  const a = d.tensor(new Float32Array(M * K).fill(0.5), [M, K])
  const b = d.tensor(new Float32Array(K * N).fill(0.25), [K, N])
  const c = d.tensor(new Float32Array(M * N), [M, N])
  const p: MatmulParams = { dtype: 'f32', batch: 1, m: M, n: N, k: K, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0, bias: 'none', activation: 'none' }
  const be = d.backend
  const { width, height } = packedBSize(p)
  const tex = be.allocTexture(width, height)
  const buf = be.alloc('f32', width * height * 4)
  const fs = await import('node:fs')
  const workerTicks = () => fs.readdirSync('/proc/self/task').filter((t) => +t !== process.pid).reduce((n, t) => { const f = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' '); return n + +f[11]! + +f[12]! }, 0)
  const time = async (label: string, fn: () => void, flops: number, iters = 2) => {
    fn(); await d.sync()
    const c0 = workerTicks()
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) fn()
    await d.sync()
    const dt = (performance.now() - t0) / iters
    const cpu = ((workerTicks() - c0) * 10) / iters
    console.log(label.padEnd(34), dt.toFixed(1).padStart(7), 'ms wall', (flops / dt / 1e6).toFixed(1).padStart(5), 'GFLOP/s; cpu', cpu.toFixed(0).padStart(5), 'ms →', ((2 * flops) / cpu / 1e6).toFixed(1), 'GFLOP/s at 2 free cores')
  }
  await time('packT', () => be.run(packBKernel('texture'), p, [b.storage], [tex]), 0)
  await time('packB', () => be.run(packBKernel('buffer'), p, [b.storage], [buf]), 0)
  const shapes = JSON.parse(process.env.TILES ?? '[[8,4,64,0,"texture"],[8,4,64,0,"buffer"]]') as [number, number, number, number, 'texture' | 'buffer'][]
  if (process.env.CONV) {
    const g = { batch: 8, cin: 64, h: 32, w: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, hout: 32, wout: 32 }
    const q: MatmulParams = { ...p, batch: 8, m: 64, n: 1024, k: 576, aBatchStride: 0, bBatchStride: 0, im2col: g }
    const x = d.tensor(new Float32Array(8 * 64 * 1024).fill(0.5), [8, 64, 32, 32])
    const w = d.tensor(new Float32Array(64 * 576).fill(0.5), [64, 576])
    const o = d.tensor(new Float32Array(8 * 64 * 1024), [8, 64, 1024])
    const sz = packedBSize(q)
    const t2 = be.allocTexture(sz.width, sz.height)
    const flops = 2 * 8 * 64 * 1024 * 576
    for (let round = 0; round < 2; round++) {
      await time('conv pack', () => be.run(packBKernel('texture'), q, [x.storage], [t2]), flops, 3)
      for (const [rows, texels, threads] of shapes) {
        const k = packedMatmulKernel({ rows, texels, threads, packedIn: 'texture' })
        await time('conv ' + k.name, () => be.run(k, q, [w.storage, t2], [o.storage]), flops, 3)
      }
    }
    return
  }
  for (let round = 0; round < 3; round++)
    for (const [rows, texels, threads, il, packedIn] of shapes) {
      const k = packedMatmulKernel({ rows, texels, threads, packedIn })
      await time(k.name, () => be.run(k, p, [a.storage, packedIn === 'texture' ? tex : buf], [c.storage]), 2 * M * N * K)
    }
}, 600000)
