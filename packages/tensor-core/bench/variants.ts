/**
 * Every matmul variant on whatever adapter is present: checked against the CPU reference on
 * awkward shapes, then timed on the bench shapes (and the bench conv as implicit GEMM).
 * For adapters this machine lacks (a real GPU): bundle with
 *   npx tsup bench/variants.ts --format esm --external webgpu -d <dir>
 * and run the bundle with node beside the npm package `webgpu`. Prints a JSON report.
 */
import { Device } from '../src/index.js'
import type { Storage } from '../src/backend/backend.js'
import { convOutputSize, type ConvGeometry } from '../src/kernels/conv.js'
import { matmulCpu, type MatmulParams } from '../src/kernels/matmul.js'
import { MATMUL_VARIANTS } from '../src/ops/matmul-select.js'

const base = { dtype: 'f32', transA: false, transB: false, bias: 'none', activation: 'none', aBatchStride: 0, bBatchStride: 0 } as const

function geometry(batch: number, cin: number, h: number, w: number, k: number, stride: number, pad: number): ConvGeometry {
  const out = (s: number) => convOutputSize(s, k, stride, pad)
  return { batch, cin, h, w, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, hout: out(h), wout: out(w) }
}

const small = geometry(2, 3, 17, 13, 3, 2, 1)
const CHECKS: MatmulParams[] = [
  { ...base, batch: 3, m: 77, n: 130, k: 67, aBatchStride: 77 * 67, bBatchStride: 67 * 130, bias: 'col', activation: 'gelu' },
  { ...base, batch: 2, m: 129, n: 65, k: 128, transA: true, transB: true, aBatchStride: 129 * 128 },
  { ...base, batch: 2, m: 7, n: small.hout * small.wout, k: 27, bias: 'row', activation: 'relu', im2col: small },
]
const benchConv = geometry(8, 64, 32, 32, 3, 1, 1)
const TIMED: { name: string; p: MatmulParams }[] = [
  { name: 'matmul 1024×1024×1024', p: { ...base, batch: 1, m: 1024, n: 1024, k: 1024 } },
  { name: 'matmul 256×512×2048', p: { ...base, batch: 1, m: 256, n: 2048, k: 512 } },
  { name: 'conv2d 3×3 N8 64→64 32×32 p1', p: { ...base, batch: 8, m: 64, n: 1024, k: 576, im2col: benchConv } },
  // A width-128 prior's training step at batch 32 × 80 tokens: narrow n, where workgroup width matters.
  { name: 'prior fwd x·Wᵀ 2560×128×512', p: { ...base, batch: 1, m: 2560, n: 128, k: 512, transB: true } },
  { name: 'prior dW dYᵀ·X 512×128×2560', p: { ...base, batch: 1, m: 512, n: 128, k: 2560, transA: true } },
]

function sizes(p: MatmulParams): [number, number, number] {
  const a = (p.aBatchStride ? p.batch : 1) * p.m * p.k
  const b = p.im2col ? p.batch * p.im2col.cin * p.im2col.h * p.im2col.w : (p.bBatchStride ? p.batch : 1) * p.k * p.n
  return [a, b, p.bias === 'row' ? p.m : p.n]
}

const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5)

const device = await Device.create({ backend: 'webgpu' })
const backend = device.backend
const upload = (data: Float32Array): Storage => {
  const s = backend.alloc('f32', data.length)
  backend.write(s, data)
  return s
}
const report: { adapter: string; checks: Record<string, string>; timings: Record<string, Record<string, number>> } = { adapter: device.adapter.description, checks: {}, timings: {} }

for (const [name, variant] of Object.entries(MATMUL_VARIANTS)) {
  for (const [i, p] of CHECKS.entries()) {
    if (!variant.fits(backend, p)) continue
    const [as, bs, cs] = sizes(p)
    const [a, b, bias] = [random(as, 1), random(bs, 2), random(cs, 3)]
    const out = backend.alloc('f32', p.batch * p.m * p.n)
    variant.run(backend, p, upload(a), upload(b), p.bias === 'none' ? undefined : upload(bias), out)
    const got = await backend.read(out)
    const want = new Float32Array(got.length)
    matmulCpu(p, a, b, p.bias === 'none' ? undefined : bias, want)
    let worst = 0
    for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!) / (1e-3 + Math.abs(want[j]!)))
    report.checks[`${name} #${i}`] = worst < 1e-3 ? 'ok' : `MISMATCH (worst relative error ${worst})`
  }
  for (const { name: workload, p } of TIMED) {
    if (!variant.fits(backend, p)) continue
    const [as, bs] = sizes(p)
    const [a, b, out] = [upload(random(as, 4)), upload(random(bs, 5)), backend.alloc('f32', p.batch * p.m * p.n)]
    variant.run(backend, p, a, b, undefined, out)
    await device.sync()
    const iters = backend.adapter.software ? 2 : 50
    const t0 = performance.now()
    for (let r = 0; r < iters; r++) variant.run(backend, p, a, b, undefined, out)
    await device.sync()
    const ms = (performance.now() - t0) / iters
    ;(report.timings[workload] ??= {})[name] = Math.round((2 * p.batch * p.m * p.n * p.k) / ms / 1e6)
  }
}
console.log(JSON.stringify(report, null, 2))
device.destroy()
