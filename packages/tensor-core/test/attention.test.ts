import { describe, expect, it } from 'vitest'
import { DTypeError, ops, ShapeError, tidy, type Device, type Tensor } from '../src/index.js'
import { countDispatches, cpuDevice, expectClose, gpuDevice, randomArray, randomInts } from './helpers.js'
import { compareBackendGrads, gradcheck } from './gradcheck.js'

/**
 * The oracle: attention as the unfused composition it replaced (matmul → scale → masked
 * softmax → matmul), with causal masking folded into an explicit keep-mask.
 */
function unfused(q: Tensor, k: Tensor, v: Tensor, opts: { mask?: Tensor; scale?: number } = {}): Tensor {
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[q.rank - 1]!)
  return ops.matmul(ops.softmax(ops.mul(ops.matmul(q, k, { transB: true }), scale), { mask: opts.mask }), v)
}

/** Keep-mask host data of shape [...batch, lq, lk]: random (or all ones), times causal if asked. */
function keepData(batch: number, lq: number, lk: number, opts: { random?: boolean; causal?: boolean; seed?: number }): Int32Array {
  const rnd = opts.random ? randomInts(batch * lq * lk, opts.seed ?? 5, 0, 2) : new Int32Array(batch * lq * lk).fill(1)
  return rnd.map((keep, e) => {
    const [i, j] = [Math.floor(e / lk) % lq, e % lk]
    return keep && (!opts.causal || j <= i + lk - lq) ? 1 : 0
  })
}

interface Case {
  batch: number[]
  lq: number
  lk: number
  d: number
  dv?: number
  mask?: 'random' | 'none'
  /** Batch dims of the mask (default: none, one [lq, lk] mask for all). */
  maskBatch?: number[]
  causal?: boolean
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1)

/** Builds fused and unfused outputs (and, with `grads`, q/k/v gradients of Σ y ⊙ w) on `dev`. */
function run(dev: Device, c: Case, grads: boolean): { fused: Tensor[]; oracle: Tensor[]; leaves: Tensor[] } {
  const leaves: Tensor[] = []
  const dv = c.dv ?? c.d
  const [qs, ks, vs] = [[...c.batch, c.lq, c.d], [...c.batch, c.lk, c.d], [...c.batch, c.lk, dv]]
  const data = [randomArray(size(qs), 1, -2, 2), randomArray(size(ks), 2, -2, 2), randomArray(size(vs), 3)]
  const mb = c.maskBatch ?? []
  const random = c.mask === 'random'
  const maskOf = (causal: boolean) => (random || causal ? dev.tensor(keepData(size(mb), c.lq, c.lk, { random, causal }), [...mb, c.lq, c.lk]) : undefined)
  const w = dev.tensor(randomArray(size([...c.batch, c.lq, dv]), 4), [...c.batch, c.lq, dv])
  const side = (fused: boolean): Tensor[] => {
    // Leaves outside tidy(): their gradients outlive the scope.
    const [q, k, v] = [qs, ks, vs].map((s, i) => dev.tensor(data[i]!, s, { requiresGrad: grads })) as [Tensor, Tensor, Tensor]
    const y = tidy(() => {
      const y = fused ? ops.attention(q, k, v, { mask: random ? maskOf(false) : undefined, causal: c.causal }) : unfused(q, k, v, { mask: maskOf(!!c.causal) })
      if (grads) ops.sum(ops.mul(y, w)).backward()
      return y
    })
    leaves.push(q, k, v)
    return grads ? [y, q.grad!, k.grad!, v.grad!] : [y]
  }
  const result = { fused: side(true), oracle: side(false), leaves }
  w.dispose()
  return result
}

async function expectCase(c: Case, opts: { grads?: boolean; rtol?: number; atol?: number } = {}): Promise<void> {
  const { grads = false, rtol = 2e-4, atol = 2e-5 } = opts
  const cpuFused: Float32Array[] = []
  for (const dev of [await cpuDevice(), await gpuDevice()]) {
    const { fused, oracle, leaves } = run(dev, c, grads)
    for (let i = 0; i < fused.length; i++) {
      const [f, o] = [(await fused[i]!.read()) as Float32Array, (await oracle[i]!.read()) as Float32Array]
      const what = `${dev.adapter.backend} ${['out', 'dq', 'dk', 'dv'][i]} of ${JSON.stringify(c)}`
      expect(fused[i]!.shape, what).toEqual(oracle[i]!.shape)
      try {
        expectClose(f, o, rtol, atol)
        if (dev.adapter.backend === 'cpu') cpuFused.push(f)
        else expectClose(f, cpuFused[i]!, rtol, atol)
      } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}`)
      }
    }
    ;[...fused, ...oracle, ...leaves].forEach((t) => t.dispose())
  }
}

describe('ops.attention (fused)', () => {
  it('matches the unfused composition on CPU and WebGPU: d 8/16/32/64, Lq/Lk 1/7/80/130, keep-masks, causal', async () => {
    const lengths: [number, number][] = [[1, 80], [7, 7], [80, 80], [130, 130], [1, 1], [7, 130], [130, 7], [80, 1]]
    const ds = [8, 16, 32, 64]
    let n = 0
    for (const [lq, lk] of lengths) {
      for (const variant of [{}, { mask: 'random' as const }, { causal: true }, { mask: 'random' as const, causal: true }]) {
        const d = ds[n++ % ds.length]!
        await expectCase({ batch: [2, 3], lq, lk, d, ...variant })
      }
    }
  }, 120_000)

  it('every head dim with a decode step and a full square, masked and causal', async () => {
    for (const d of [8, 16, 32, 64]) {
      await expectCase({ batch: [2], lq: 1, lk: 80, d, mask: 'random', causal: true })
      await expectCase({ batch: [3], lq: 80, lk: 80, d, mask: 'random', causal: true })
    }
  }, 120_000)

  it('gradients of q, k, v match the unfused composition (CPU and WebGPU)', async () => {
    const cases: Case[] = [
      { batch: [2, 2], lq: 7, lk: 7, d: 8 },
      { batch: [2, 2], lq: 80, lk: 80, d: 16, mask: 'random', causal: true },
      { batch: [3], lq: 1, lk: 80, d: 64, causal: true },
      { batch: [2], lq: 130, lk: 130, d: 32, mask: 'random' },
      { batch: [2], lq: 130, lk: 7, d: 64, causal: true },
      { batch: [2], lq: 7, lk: 130, d: 8, dv: 16, mask: 'random', causal: true },
      { batch: [2, 3], lq: 80, lk: 80, d: 64, mask: 'random', maskBatch: [2, 1] },
    ]
    for (const c of cases) await expectCase(c, { grads: true })
  }, 180_000)

  it('head dims that are not a multiple of 4, d ≠ dv, batched masks', async () => {
    await expectCase({ batch: [2, 2], lq: 9, lk: 11, d: 6, dv: 5, mask: 'random', maskBatch: [2, 2] }, { grads: true })
    await expectCase({ batch: [3], lq: 33, lk: 70, d: 3, dv: 8, causal: true }, { grads: true })
  }, 60_000)

  it('broadcasts batch dims of q, k, v and the mask; gradients sum over the broadcast', async () => {
    const [B, H, L, d] = [2, 3, 10, 8]
    const shapes = [[B, H, L, d], [1, H, L, d], [H, L, d]]
    const masks: [number[], Int32Array][] = [
      [[B, 1, L, L], keepData(B, L, L, { random: true, seed: 9 })],
      [[L], randomInts(L, 10, 0, 2)],
      [[L, 1], randomInts(L, 11, 0, 2)],
    ]
    const inputs = shapes.map((shape, i) => ({ shape, seed: 20 + i }))
    for (const [mshape, mdata] of masks) {
      const build = (fused: boolean) => ([q, k, v]: Tensor[], dev: Device) => {
        const mask = dev.tensor(mdata, mshape)
        return fused ? ops.attention(q!, k!, v!, { mask }) : unfused(q!, k!, v!, { mask })
      }
      await compareBackendGrads(inputs, build(true), { rtol: 2e-4, atol: 2e-5 })
      for (const dev of [await cpuDevice(), await gpuDevice()]) {
        const xs = inputs.map((x, i) => dev.tensor(randomArray(size(x.shape), 30 + i), x.shape, { requiresGrad: true }))
        const out: Float32Array[][] = []
        for (const fused of [true, false]) {
          xs.forEach((x) => (x.grad?.dispose(), (x.grad = null)))
          const y = build(fused)(xs, dev)
          ops.sum(ops.mul(y, y)).backward()
          out.push([(await y.read()) as Float32Array, ...(await Promise.all(xs.map((x) => x.grad!.read() as Promise<Float32Array>)))])
          y.dispose()
        }
        out[0]!.forEach((a, i) => expectClose(a, out[1]![i]!, 2e-4, 2e-5))
        xs.forEach((x) => (x.grad?.dispose(), x.dispose()))
      }
    }
  }, 60_000)

  it('finite-difference gradients of q, k and v (plain, masked, causal)', async () => {
    const inputs = [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }, { shape: [2, 5, 3] }]
    const keep = Int32Array.from([1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1])
    const builds: [string, (xs: Tensor[], d: Device) => Tensor][] = [
      ['plain', ([q, k, v]) => ops.attention(q!, k!, v!)],
      ['mask + scale', ([q, k, v], d) => ops.attention(q!, k!, v!, { mask: d.tensor(keep, [3, 5]), scale: 0.7 })],
      ['causal', ([q, k, v]) => ops.attention(q!, k!, v!, { causal: true })],
    ]
    for (const [name, build] of builds) {
      try {
        await gradcheck(inputs, build)
        await compareBackendGrads(inputs, build, { rtol: 1e-4, atol: 1e-5 })
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`)
      }
    }
  }, 60_000)

  it('a query with no allowed key gets zeros and passes no gradient', async () => {
    for (const dev of [await cpuDevice(), await gpuDevice()]) {
      const [lq, lk, d] = [4, 6, 8]
      // Row 1 masked out by the keep-mask; causal with Lq > Lk also empties rows (here none: Lk ≥ Lq).
      const keep = keepData(1, lq, lk, { random: false }).map((x, e) => (Math.floor(e / lk) === 1 ? 0 : x))
      const q = dev.tensor(randomArray(lq * d, 1), [lq, d], { requiresGrad: true })
      const k = dev.tensor(randomArray(lk * d, 2), [lk, d], { requiresGrad: true })
      const v = dev.tensor(randomArray(lk * d, 3), [lk, d], { requiresGrad: true })
      const y = ops.attention(q, k, v, { mask: dev.tensor(keep, [lq, lk]) })
      ops.sum(ops.mul(y, y)).backward()
      const [yv, gq] = [await y.read(), await q.grad!.read()]
      expect(Array.from(yv.subarray(d, 2 * d))).toEqual(new Array(d).fill(0))
      expect(Array.from(gq.subarray(d, 2 * d))).toEqual(new Array(d).fill(0))
      expect(yv.every(Number.isFinite) && gq.every(Number.isFinite)).toBe(true)
      // Causal with Lq > Lk: the first Lq − Lk queries see no key.
      const q2 = dev.tensor(randomArray(6 * d, 4), [6, d], { requiresGrad: true })
      const k2 = dev.tensor(randomArray(2 * d, 5), [2, d], { requiresGrad: true })
      const y2 = ops.attention(q2, k2, k2, { causal: true })
      ops.sum(ops.mul(y2, y2)).backward()
      const [a, g] = [await y2.read(), await q2.grad!.read()]
      expect(Array.from(a.subarray(0, 4 * d)).every((x) => x === 0)).toBe(true)
      expect(Array.from(g.subarray(0, 4 * d)).every((x) => x === 0)).toBe(true)
      expect(a.subarray(4 * d).some((x) => x !== 0)).toBe(true)
    }
  })

  it('is fused: one dispatch forward (two with a mask, which is packed to bits), no [Lq, Lk] tensor', async () => {
    const dev = await gpuDevice()
    const q = dev.tensor(randomArray(2 * 4 * 80 * 64, 1), [2, 4, 80, 64])
    const mask = dev.tensor(keepData(1, 80, 80, { random: true }), [80, 80])
    const counts = countDispatches(dev, () => tidy(() => void ops.attention(q, q, q, { mask, causal: true })))
    expect(Object.fromEntries(counts)).toEqual({ 'attention.packMask': 1, 'attention.forward': 1 })
    const plain = countDispatches(dev, () => tidy(() => void ops.attention(q, q, q, { causal: true })))
    expect(Object.fromEntries(plain)).toEqual({ 'attention.forward': 1 })
  })

  it('f16 storage matches the CPU reference', async () => {
    if (!(await gpuDevice()).backend.supportsF16) return
    const out: Float32Array[] = []
    for (const dev of [await cpuDevice(), await gpuDevice()]) {
      const t = (n: number[], seed: number) => dev.tensor(randomArray(size(n), seed), n, { dtype: 'f16', requiresGrad: true })
      const [q, k, v] = [t([2, 7, 16], 1), t([2, 9, 16], 2), t([2, 9, 16], 3)]
      const y = ops.attention(q, k, v, { causal: true })
      ops.sum(y).backward()
      out.push(...((await Promise.all([y.read(), q.grad!.read(), k.grad!.read(), v.grad!.read()])) as Float32Array[]))
    }
    for (let i = 0; i < 4; i++) expectClose(out[4 + i]!, out[i]!, 1e-2, 1e-2)
  })

  it('rejects bad shapes and dtypes with typed errors', async () => {
    const dev = await cpuDevice()
    const q = dev.tensor(new Float32Array(12), [3, 4])
    const k = dev.tensor(new Float32Array(20), [5, 4])
    expect(() => ops.attention(q, k, k, { mask: dev.tensor(new Int32Array(4), [2, 2]) })).toThrow(ShapeError)
    expect(() => ops.attention(q, k, k, { mask: dev.tensor(new Float32Array(15), [3, 5]) })).toThrow(DTypeError)
    expect(() => ops.attention(q, dev.tensor(new Float32Array(15), [5, 3]), k)).toThrow(ShapeError)
    expect(() => ops.attention(dev.tensor(new Float32Array(24), [2, 3, 4]), dev.tensor(new Float32Array(60), [3, 5, 4]), dev.tensor(new Float32Array(60), [3, 5, 4]))).toThrow(ShapeError)
  })
})
