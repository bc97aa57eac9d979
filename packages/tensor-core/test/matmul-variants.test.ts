import { describe, expect, it } from 'vitest'
import type { Storage } from '../src/backend/backend.js'
import { convOutputSize, type ConvGeometry } from '../src/kernels/im2col.js'
import { roundToF16 } from '../src/dtype.js'
import { matmulCpu, type MatmulParams } from '../src/kernels/matmul.js'
import { autotuneMatmul, autotuneSeenMatmuls, clearMatmulTuning, matmulShapeClass } from '../src/autotune.js'
import { ops } from '../src/index.js'
import { defaultMatmulVariant, selectMatmulVariant } from '../src/ops/matmul-select.js'
import { MATMUL_VARIANTS, packedVariant, type MatmulVariant } from '../src/ops/matmul-variants.js'
import { cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

const base = { dtype: 'f32', transA: false, transB: false, bias: 'none', activation: 'none' } as const

/** Odd sizes (no tile divides them), k both a multiple of 4 and not, size-1 dims, broadcast B. */
function cases(): { label: string; p: MatmulParams }[] {
  const conv: ConvGeometry = { batch: 2, cin: 3, h: 9, w: 7, kh: 3, kw: 3, strideH: 2, strideW: 1, padH: 1, padW: 1, hout: convOutputSize(9, 3, 2, 1), wout: convOutputSize(7, 3, 1, 1) }
  const folded: ConvGeometry = { batch: 3, cin: 2, h: 6, w: 6, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, hout: 6, wout: 6 }
  return [
    { label: 'batched, bias per column, relu', p: { ...base, batch: 2, m: 13, n: 37, k: 20, aBatchStride: 13 * 20, bBatchStride: 20 * 37, bias: 'col', activation: 'relu' } },
    { label: 'Aᵀ·Bᵀ, shared B, odd k', p: { ...base, batch: 3, m: 9, n: 70, k: 7, transA: true, transB: true, aBatchStride: 63, bBatchStride: 0 } },
    { label: 'single row and column', p: { ...base, batch: 1, m: 1, n: 1, k: 5, aBatchStride: 0, bBatchStride: 0, bias: 'row', activation: 'gelu' } },
    { label: 'implicit-GEMM conv, bias per row', p: { ...base, batch: 2, m: 5, n: conv.hout * conv.wout, k: 27, aBatchStride: 0, bBatchStride: 0, bias: 'row', im2col: conv } },
    { label: 'f16 storage', p: { ...base, dtype: 'f16', batch: 1, m: 10, n: 19, k: 12, aBatchStride: 0, bBatchStride: 0, bias: 'col' } },
    // Batch folded into the columns: 3 images of 6×6 pixels, 36 per image (a multiple of 4, not of any tile).
    { label: 'folded implicit-GEMM conv, bias per row, relu', p: { ...base, batch: 3, m: 5, n: 36, k: 18, aBatchStride: 0, bBatchStride: 0, bias: 'row', activation: 'relu', im2col: folded, foldBatch: true } },
    { label: 'folded Aᵀ·B, batched B', p: { ...base, batch: 3, m: 9, n: 12, k: 7, transA: true, aBatchStride: 0, bBatchStride: 7 * 12, foldBatch: true } },
    { label: 'folded A·Bᵀ, batched B, bias per column', p: { ...base, batch: 5, m: 3, n: 8, k: 5, transB: true, aBatchStride: 0, bBatchStride: 40, bias: 'col', foldBatch: true } },
  ]
}

/**
 * Tile scale: m and n past two 64×64 tiles with ragged edges, k over several k-tiles (8 and 16)
 * and not a multiple of 4, so every workgroup row, column and k step is exercised. On a real GPU
 * the 64×64 tile runs every matmul; the small cases above all fit in one tile.
 */
function tileCases(): { label: string; p: MatmulParams }[] {
  const conv: ConvGeometry = { batch: 2, cin: 8, h: 12, w: 11, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, hout: 12, wout: 11 }
  return [
    { label: 'tile scale: batched, bias per column, quickGelu', p: { ...base, batch: 2, m: 130, n: 150, k: 70, aBatchStride: 130 * 70, bBatchStride: 70 * 150, bias: 'col', activation: 'quickGelu' } },
    { label: 'tile scale: Aᵀ·Bᵀ, shared A', p: { ...base, batch: 2, m: 77, n: 129, k: 93, transA: true, transB: true, aBatchStride: 0, bBatchStride: 93 * 129 } },
    { label: 'tile scale: implicit-GEMM conv, bias per row, gelu', p: { ...base, batch: 2, m: 72, n: 132, k: 72, aBatchStride: 0, bBatchStride: 0, bias: 'row', activation: 'gelu', im2col: conv } },
    { label: 'tile scale: folded A·B, batched B', p: { ...base, batch: 3, m: 66, n: 44, k: 37, aBatchStride: 0, bBatchStride: 37 * 44, foldBatch: true } },
    { label: 'tile scale: f16 storage', p: { ...base, dtype: 'f16', batch: 1, m: 70, n: 140, k: 40, aBatchStride: 0, bBatchStride: 0, bias: 'col' } },
  ]
}

function operandSizes(p: MatmulParams): [number, number, number] {
  const aSize = (p.aBatchStride ? p.batch : 1) * p.m * p.k
  const bSize = p.im2col ? p.batch * p.im2col.cin * p.im2col.h * p.im2col.w : (p.bBatchStride ? p.batch : 1) * p.k * p.n
  return [aSize, bSize, p.bias === 'row' ? p.m : p.n]
}

// The packed variants again with packed rows folded into panels of 5 (same pipelines): the
// layout that lets batch·k exceed the texture height limit.
const VARIANTS: Record<string, MatmulVariant> = {
  ...MATMUL_VARIANTS,
  'texture.8x16, panels of 5 rows': packedVariant('texture.8x16', { rows: 8, texels: 4, threads: 64, packedIn: 'texture' }, 5),
  'vec4.8x16, panels of 5 rows': packedVariant('vec4.8x16', { rows: 8, texels: 4, threads: 64, packedIn: 'buffer' }, 5),
}

describe.each(Object.keys(VARIANTS))('matmul variant %s', (name) => {
  // On the CPU backend a variant runs its kernels' CPU twins (packing B included). Both are
  // checked against the triple loop below, never against matmulCpu (which many twins call).
  const runs = [...cases(), ...tileCases()].flatMap((c) => [[c.label, { p: c.p, device: gpuDevice }] as const, [`${c.label}, cpu twins`, { p: c.p, device: cpuDevice }] as const])
  it.for(runs)('matches the triple-loop definition: %s', async ([, { p, device }], ctx) => {
    const d = await device()
    const variant = VARIANTS[name]!
    expect(variant.fits(d.backend, p)).toBe(true)
    ctx.skip(p.dtype === 'f16' && !d.backend.supportsF16, 'the adapter lacks shader-f16') // lavapipe has it
    const [aSize, bSize, biasSize] = operandSizes(p)
    // f16 operands are stored rounded, so the reference gets the same rounded values.
    const values = (n: number, seed: number) => (p.dtype === 'f16' ? roundToF16(randomArray(n, seed)) : randomArray(n, seed))
    const [a, b, bias] = [values(aSize, 1), values(bSize, 2), values(biasSize, 3)]
    const upload = (data: Float32Array): Storage => {
      const s = d.backend.alloc(p.dtype, data.length)
      d.backend.write(s, data)
      return s
    }
    const out = d.backend.alloc(p.dtype, p.batch * p.m * p.n)
    variant.run(d.backend, p, upload(a), upload(b), p.bias === 'none' ? undefined : upload(bias), out)
    const expected = naiveMatmul(p, a, b, bias)
    if (p.dtype === 'f16') roundToF16(expected)
    // f32 sums in another order differ from the float64 loop by ~k·2⁻²⁴ relative to the terms.
    expectClose(await d.backend.read(out), expected, p.dtype === 'f16' ? 2e-3 : 1e-4, p.dtype === 'f16' ? 2e-3 : 1e-5)
  })
})

/** The activations written out again from their definitions (not `activationCpu`). */
const ACTIVATIONS: Record<MatmulParams['activation'], (x: number) => number> = {
  none: (x) => x,
  relu: (x) => Math.max(x, 0),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  quickGelu: (x) => x * (1 / (1 + Math.exp(-1.702 * x))),
}

/**
 * The definition, as directly as it can be written: what the blocked `matmulCpu` must equal,
 * and what every variant, on the GPU and as CPU twins, is checked against.
 */
function naiveMatmul(p: MatmulParams, a: Float32Array, b: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(p.batch * p.m * p.n)
  const g = p.im2col
  const bAt = (z: number, kk: number, j: number): number => {
    if (!g) return b[z * p.bBatchStride + (p.transB ? j * p.k + kk : kk * p.n + j)]!
    const ci = Math.floor(kk / (g.kh * g.kw))
    const ky = Math.floor(kk / g.kw) % g.kh
    const iy = Math.floor(j / g.wout) * g.strideH + ky - g.padH
    const ix = (j % g.wout) * g.strideW + (kk % g.kw) - g.padW
    return iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? b[((z * g.cin + ci) * g.h + iy) * g.w + ix]! : 0
  }
  for (let z = 0; z < p.batch; z++)
    for (let i = 0; i < p.m; i++)
      for (let j = 0; j < p.n; j++) {
        let sum = 0
        for (let kk = 0; kk < p.k; kk++) sum += a[z * p.aBatchStride + (p.transA ? kk * p.m + i : i * p.k + kk)]! * bAt(z, kk, j)
        const biased = sum + (p.bias === 'none' ? 0 : bias[p.bias === 'row' ? i : j]!)
        out[(z * p.m + i) * p.n + j] = ACTIVATIONS[p.activation](biased)
      }
  return out
}

describe('matmulCpu (the CPU backend\'s blocked matmul)', () => {
  const shapes: [string, MatmulParams][] = [
    ...cases()
      .filter(({ p }) => p.dtype === 'f32' && p.activation !== 'gelu')
      .map(({ label, p }): [string, MatmulParams] => [label, p]),
    ['whole 4×4 blocks plus ragged rows and columns', { ...base, batch: 2, m: 10, n: 11, k: 9, aBatchStride: 90, bBatchStride: 99, bias: 'row', activation: 'relu' }],
    ['Aᵀ batched, B shared', { ...base, batch: 2, m: 8, n: 8, k: 6, transA: true, aBatchStride: 48, bBatchStride: 0 }],
  ]
  it.each(shapes)('equals the triple-loop definition bit for bit: %s', (_, p) => {
    const [aSize, bSize, biasSize] = operandSizes(p)
    const [a, b, bias] = [randomArray(aSize, 4), randomArray(bSize, 5), randomArray(biasSize, 6)]
    const out = new Float32Array(p.batch * p.m * p.n)
    matmulCpu(p, a, b, p.bias === 'none' ? undefined : bias, out)
    expect(out).toEqual(naiveMatmul(p, a, b, bias))
  })
})

describe('matmul variant selection', () => {
  it('uses the adapter profile default until tuned, then the fastest candidate per shape class', async () => {
    const d = await gpuDevice()
    clearMatmulTuning()
    const p = cases()[0]!.p
    expect(selectMatmulVariant(d, p)).toBe(defaultMatmulVariant(d.backend, p))
    expect(defaultMatmulVariant(d.backend, p).name).toBe('tiled.64x64')
    // On software adapters the packed texture kernel's workgroup narrows with n (lanes past n cost as much as working ones).
    const packedFor = (n: number) => defaultMatmulVariant(d.backend, { ...p, m: 128, n, k: 128 }).name
    expect([128, 512, 1024, 2048].map(packedFor)).toEqual(d.adapter.software ? ['texture.8x16.t8', 'texture.8x16.t16', 'texture.8x16.t32', 'texture.8x16'] : Array(4).fill('tiled.64x64'))
    // A batch folded into columns past the largest texture packs into a buffer instead (a 64×64 tile wastes most of a small m).
    const tall = { ...p, batch: 288, m: 4, n: 1024, k: 36, aBatchStride: 0, bBatchStride: 36 * 1024, foldBatch: true }
    expect(MATMUL_VARIANTS['texture.8x16'].fits(d.backend, tall)).toBe(false)
    expect(defaultMatmulVariant(d.backend, tall).name).toBe(d.adapter.software ? 'vec4.8x16' : 'tiled.64x64')
    const [tuning] = await autotuneMatmul(d, [p], { runs: 1, persist: false })
    const fastest = Object.entries(tuning!.ms).sort((x, y) => x[1] - y[1])[0]![0]
    expect(tuning!.winner).toBe(fastest)
    expect(Object.keys(tuning!.ms).length).toBe(Object.keys(MATMUL_VARIANTS).length)
    expect(selectMatmulVariant(d, { ...p, m: 14, n: 40 }).name).toBe(fastest)
    expect(matmulShapeClass({ ...p, m: 1024 })).not.toBe(tuning!.shapeClass)
    expect(await autotuneMatmul(d, [p], { persist: false })).toEqual([])
    clearMatmulTuning()
  })
  it('tunes the shape classes a workload ran, once', async () => {
    const d = await gpuDevice()
    clearMatmulTuning()
    const a = d.tensor(randomArray(6 * 40, 1), [6, 40])
    const b = d.tensor(randomArray(40 * 9, 2), [40, 9])
    ops.matmul(a, b).dispose()
    ops.matmul(b, ops.transpose(b)).dispose()
    const tunings = await autotuneSeenMatmuls(d, { runs: 1, persist: false })
    expect(tunings.map((t) => t.shapeClass).sort()).toEqual(
      [matmulShapeClass({ ...base, batch: 1, m: 6, n: 9, k: 40, aBatchStride: 0, bBatchStride: 0 }), matmulShapeClass({ ...base, batch: 1, m: 40, n: 40, k: 9, aBatchStride: 0, bBatchStride: 0 })].sort(),
    )
    ops.matmul(a, b).dispose()
    expect(await autotuneSeenMatmuls(d, { runs: 1, persist: false })).toEqual([])
    for (const t of [a, b]) t.dispose()
    clearMatmulTuning()
  })
  it('persists winners per adapter in a JSON file under the cache dir', async () => {
    const d = await gpuDevice()
    const { mkdtempSync, readFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const prev = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'tessera-tune-'))
    try {
      clearMatmulTuning()
      const p = cases()[0]!.p
      const [tuning] = await autotuneMatmul(d, [p], { runs: 1 })
      const file = JSON.parse(readFileSync(join(process.env.XDG_CACHE_HOME, 'tessera', 'matmul-tuning.json'), 'utf8'))
      expect(Object.values(file)).toEqual([{ [tuning!.shapeClass]: tuning!.winner }])
      clearMatmulTuning()
      expect(await autotuneMatmul(d, [p])).toEqual([])
      expect(selectMatmulVariant(d, p).name).toBe(tuning!.winner)
    } finally {
      clearMatmulTuning()
      if (prev === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = prev
    }
  })
})
