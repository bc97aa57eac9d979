import { describe, expect, it } from 'vitest'
import type { Storage } from '../src/backend/backend.js'
import { convOutputSize, type ConvGeometry } from '../src/kernels/conv.js'
import { matmulCpu, type MatmulParams } from '../src/kernels/matmul.js'
import { MATMUL_VARIANTS, type MatmulVariantName } from '../src/ops/matmul-select.js'
import { expectClose, gpuDevice, randomArray } from './helpers.js'

const base = { dtype: 'f32', transA: false, transB: false, bias: 'none', activation: 'none' } as const

/** Odd sizes (no tile divides them), k both a multiple of 4 and not, size-1 dims, broadcast B. */
function cases(): { label: string; p: MatmulParams }[] {
  const conv: ConvGeometry = { batch: 2, cin: 3, h: 9, w: 7, kh: 3, kw: 3, strideH: 2, strideW: 1, padH: 1, padW: 1, hout: convOutputSize(9, 3, 2, 1), wout: convOutputSize(7, 3, 1, 1) }
  return [
    { label: 'batched, bias per column, relu', p: { ...base, batch: 2, m: 13, n: 37, k: 20, aBatchStride: 13 * 20, bBatchStride: 20 * 37, bias: 'col', activation: 'relu' } },
    { label: 'Aᵀ·Bᵀ, shared B, odd k', p: { ...base, batch: 3, m: 9, n: 70, k: 7, transA: true, transB: true, aBatchStride: 63, bBatchStride: 0 } },
    { label: 'single row and column', p: { ...base, batch: 1, m: 1, n: 1, k: 5, aBatchStride: 0, bBatchStride: 0, bias: 'row', activation: 'gelu' } },
    { label: 'implicit-GEMM conv, bias per row', p: { ...base, batch: 2, m: 5, n: conv.hout * conv.wout, k: 27, aBatchStride: 0, bBatchStride: 0, bias: 'row', im2col: conv } },
  ]
}

function operandSizes(p: MatmulParams): [number, number, number] {
  const aSize = (p.aBatchStride ? p.batch : 1) * p.m * p.k
  const bSize = p.im2col ? p.batch * p.im2col.cin * p.im2col.h * p.im2col.w : (p.bBatchStride ? p.batch : 1) * p.k * p.n
  return [aSize, bSize, p.bias === 'row' ? p.m : p.n]
}

describe.each(Object.keys(MATMUL_VARIANTS) as MatmulVariantName[])('matmul variant %s', (name) => {
  it.each(cases())('matches the cpu reference: $label', async ({ p }) => {
    const d = await gpuDevice()
    const variant = MATMUL_VARIANTS[name]
    expect(variant.fits(d.backend, p)).toBe(true)
    const [aSize, bSize, biasSize] = operandSizes(p)
    const [a, b, bias] = [randomArray(aSize, 1), randomArray(bSize, 2), randomArray(biasSize, 3)]
    const upload = (data: Float32Array): Storage => {
      const s = d.backend.alloc('f32', data.length)
      d.backend.write(s, data)
      return s
    }
    const out = d.backend.alloc('f32', p.batch * p.m * p.n)
    variant.run(d.backend, p, upload(a), upload(b), p.bias === 'none' ? undefined : upload(bias), out)
    const expected = new Float32Array(p.batch * p.m * p.n)
    matmulCpu(p, a, b, p.bias === 'none' ? undefined : bias, expected)
    expectClose(await d.backend.read(out), expected, 1e-4, 1e-5)
  })
})
