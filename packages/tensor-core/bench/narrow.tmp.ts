import { Device } from '../src/index.js'
import type { Storage } from '../src/backend/backend.js'
import { matmulCpu, type MatmulParams } from '../src/kernels/matmul.js'
import { MATMUL_VARIANTS, packedVariant, tiledVariant } from '../src/ops/matmul-select.js'
const base = { dtype: 'f32', transA: false, transB: false, bias: 'none', activation: 'none', aBatchStride: 0, bBatchStride: 0, batch: 1 } as const
const variants = {
  ...MATMUL_VARIANTS,
  'texture.8x16.t8': packedVariant('texture.8x16.t8', { rows: 8, texels: 4, threads: 8, packedIn: 'texture' }),
  'texture.8x16.t16': packedVariant('texture.8x16.t16', { rows: 8, texels: 4, threads: 16, packedIn: 'texture' }),
  'texture.8x8.t16': packedVariant('texture.8x8.t16', { rows: 8, texels: 2, threads: 16, packedIn: 'texture' }),
  'texture.8x8.t8': packedVariant('texture.8x8.t8', { rows: 8, texels: 2, threads: 8, packedIn: 'texture' }),
  'texture.8x16.t32': packedVariant('texture.8x16.t32', { rows: 8, texels: 4, threads: 32, packedIn: 'texture' }),
}
const SHAPES: [string, MatmulParams][] = [
  ['fwd x·Wᵀ 2560×128×512', { ...base, m: 2560, n: 128, k: 512, transB: true }],
  ['dX dY·W 2560×128×384', { ...base, m: 2560, n: 128, k: 384 }],
  ['dW dYᵀ·X 512×128×2560', { ...base, m: 512, n: 128, k: 2560, transA: true }],
  ['dW dYᵀ·X 128×512×2560', { ...base, m: 128, n: 512, k: 2560, transA: true }],
  ['fwd 2560×512×128', { ...base, m: 2560, n: 512, k: 128, transB: true }],
]
const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5)
const device = await Device.create({ backend: 'webgpu' })
const backend = device.backend
const upload = (d: Float32Array): Storage => { const s = backend.alloc('f32', d.length); backend.write(s, d); return s }
for (const [label, p] of SHAPES) {
  const a = random(p.m * p.k, 1), b = random(p.k * p.n, 2)
  const want = new Float32Array(p.m * p.n); matmulCpu(p, a, b, undefined, want)
  const A = upload(a), B = upload(b)
  const row: string[] = []
  for (const [name, v] of Object.entries(variants)) {
    if (!v.fits(backend, p)) continue
    const out = backend.alloc('f32', p.m * p.n)
    v.run(backend, p, A, B, undefined, out)
    const got = (await backend.read(out)) as Float32Array
    let err = 0; for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!))
    const reps = 8
    const t = performance.now()
    for (let r = 0; r < reps; r++) v.run(backend, p, A, B, undefined, out)
    await backend.read(out)
    const ms = (performance.now() - t) / reps
    row.push(`${name} ${(2 * p.m * p.n * p.k / ms / 1e6).toFixed(1)} GF/s${err > 1e-3 ? ' ERR ' + err : ''}`)
    backend.release(out)
  }
  console.log(label + ': ' + row.join(' | '))
}
