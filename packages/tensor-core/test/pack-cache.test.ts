import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Storage } from '../src/backend/backend.js'
import type { Kernel } from '../src/kernel.js'
import { matmulCpu, type MatmulParams } from '../src/kernels/matmul.js'
import { Device, io, loadTrainingCheckpoint, nn, noGrad, ops, optim, saveTrainingCheckpoint, tidy, type Tensor } from '../src/index.js'
import { assign, copyInto } from '../src/ops/inplace.js'
import { defaultMatmulVariant } from '../src/ops/matmul-select.js'
import { MATMUL_VARIANTS } from '../src/ops/matmul-variants.js'
import { cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

/*
 * Packed matmul operands are kept per weight version (Backend.derived): a parameter B is packed
 * once and reused until something writes it or frees it. These tests check that no write path
 * leaves a stale pack in use, that an unchanged weight packs once, and that freeing the weight
 * frees its pack. On lavapipe these products run the packed texture variant (m·n·k ≥ 64³).
 */

// x [M, K] · Wᵀ with W [N, K] (a Linear's layout): 8·256·192 multiply-adds pass the packed threshold.
const M = 8
const K = 256
const N = 192
const PACK = 'matmul.packB.texture'

const packs = (d: Device) => d.kernelStats().dispatches[PACK] ?? 0

/** x·Wᵀ on the host (matmulCpu: in order, in f64), the reference every product is compared with. */
function reference(x: Float32Array, w: Float32Array): Float32Array {
  const out = new Float32Array(M * N)
  const p: MatmulParams = { dtype: 'f32', batch: 1, m: M, n: N, k: K, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0, bias: 'none', activation: 'none' }
  matmulCpu(p, x, w, undefined, out)
  return out
}

/** A Linear-shaped weight (a parameter), an input, and the product under noGrad, read back. */
async function product(x: Tensor, w: Tensor): Promise<Float32Array> {
  const y = noGrad(() => ops.linear(x, w))
  const values = (await y.read()) as Float32Array
  y.dispose()
  return values
}

/**
 * The check every mutation path runs: multiply (packs), multiply again (reuses the pack), mutate
 * W in place, multiply again and compare with the host reference on W's new values; that last
 * product must have packed anew, once.
 */
async function checkMutation(d: Device, mutate: (w: Tensor, layer: nn.Linear) => void | Promise<void>): Promise<void> {
  const layer = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(7) })
  const w = layer.weight
  const xHost = randomArray(M * K, 3)
  const x = d.tensor(xHost, [M, K])
  const before = (await w.read()) as Float32Array
  expectClose(await product(x, w), reference(xHost, before), 1e-5, 1e-5)
  const packsBefore = packs(d)
  expectClose(await product(x, w), reference(xHost, before), 1e-5, 1e-5)
  expect(packs(d), 'an unchanged weight is packed once').toBe(packsBefore)

  await mutate(w, layer)
  const packsAfterMutation = packs(d)
  const after = (await w.read()) as Float32Array
  expect(Array.from(after.slice(0, 8))).not.toEqual(Array.from(before.slice(0, 8))) // the mutation did change W
  expectClose(await product(x, w), reference(xHost, after), 1e-5, 1e-5)
  expect(packs(d), 'the new version is packed once').toBe(packsAfterMutation + 1)
  expectClose(await product(x, w), reference(xHost, after), 1e-5, 1e-5)
  expect(packs(d)).toBe(packsAfterMutation + 1)
  x.dispose()
  layer.dispose()
  expect(d.memory().derived.entries, 'disposing the layer frees its packs').toBe(0)
}

/** A gradient step on W through the loss mean(x·Wᵀ): the optimizers' foreach kernels write W. */
function stepOn(d: Device, w: Tensor, opt: optim.Optimizer): void {
  tidy(() => {
    const x = d.tensor(randomArray(M * K, 11), [M, K])
    ops.mean(ops.square(ops.linear(x, w))).backward()
    opt.step()
    opt.zeroGrad()
  })
}

describe('packed weights are reused per version (webgpu)', () => {
  it('products take the packed texture variant here (else these tests would test nothing)', async () => {
    const d = await gpuDevice()
    expect(d.adapter.software).toBe(true)
    const p: MatmulParams = { dtype: 'f32', batch: 1, m: M, n: N, k: K, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0, bias: 'none', activation: 'none' }
    expect(defaultMatmulVariant(d.backend, p).name).toMatch(/^texture/)
  })

  describe('every in-place write of the weight invalidates its pack', () => {
    it('an SGD step (foreach kernel)', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (w) => stepOn(d, w, new optim.SGD([['w', w]], { lr: 0.5, momentum: 0.9 })))
    })

    it('an AdamW step (foreach kernel)', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (w) => stepOn(d, w, new optim.AdamW([['w', w]], { lr: 0.1 })))
    })

    it('copyInto from another tensor (copy kernel)', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (w) => {
        const src = d.tensor(randomArray(N * K, 21), [N, K])
        copyInto(w, src)
        src.dispose()
      })
    })

    it('assign from host data (queue write)', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (w) => assign(w, { dtype: 'f32', shape: [N, K], data: randomArray(N * K, 22) }))
    })

    it('a write through a reshaped view of the weight (shared storage)', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (w) => {
        const detached = w.detach()
        const view = ops.reshape(detached, [N * K])
        assign(view, { dtype: 'f32', shape: [N * K], data: randomArray(N * K, 23) })
        view.dispose()
        detached.dispose()
      })
    })

    it('Module.loadStateDict from host tensors and from device tensors', async () => {
      const d = await gpuDevice()
      await checkMutation(d, (_, layer) => layer.loadStateDict({ weight: { dtype: 'f32', shape: [N, K], data: randomArray(N * K, 24) } }))
      await checkMutation(d, (_, layer) => {
        const src = d.tensor(randomArray(N * K, 25), [N, K])
        layer.loadStateDict({ weight: src })
        src.dispose()
      })
    })

    it('loading safetensors bytes (io.parseSafetensors → loadStateDict)', async () => {
      const d = await gpuDevice()
      const bytes = io.serializeSafetensors({ weight: { dtype: 'f32', shape: [N, K], data: randomArray(N * K, 26) } })
      await checkMutation(d, (_, layer) => layer.loadStateDict({ weight: io.parseSafetensors(bytes).get('weight') }))
    })

    it('loadTrainingCheckpoint (the resume path)', async () => {
      const d = await gpuDevice()
      const dir = mkdtempSync(join(tmpdir(), 'tessera-pack-cache-'))
      try {
        // A checkpoint of another Linear with different weights.
        const other = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(99) })
        const otherOpt = new optim.SGD(other.namedParameters(), { lr: 0.1 })
        await saveTrainingCheckpoint(dir, { model: other, optimizer: otherOpt, device: d, step: 1, extra: {} })
        other.dispose()
        await checkMutation(d, async (_, layer) => {
          const opt = new optim.SGD(layer.namedParameters(), { lr: 0.1 })
          await loadTrainingCheckpoint(dir, { model: layer, optimizer: opt, device: d })
        })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })

  it('a host write after a recorded, unsubmitted product does not reach that product', async () => {
    // queue.writeBuffer runs ahead of unsubmitted commands: the write must submit the product
    // that reads the weight first, or the old product would see the new weight.
    const d = await gpuDevice()
    const layer = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(8) })
    const xHost = randomArray(M * K, 4)
    const x = d.tensor(xHost, [M, K])
    const before = (await layer.weight.read()) as Float32Array
    const y1 = noGrad(() => ops.linear(x, layer.weight)) // recorded, not submitted
    const next = randomArray(N * K, 27)
    assign(layer.weight, { dtype: 'f32', shape: [N, K], data: next })
    const y2 = noGrad(() => ops.linear(x, layer.weight))
    expectClose(await y1.read(), reference(xHost, before), 1e-5, 1e-5)
    expectClose(await y2.read(), reference(xHost, next), 1e-5, 1e-5)
    for (const t of [x, y1, y2]) t.dispose()
    layer.dispose()
  })

  it('a repeated product with an unchanged weight packs once; activations and inputs pack every time', async () => {
    const d = await gpuDevice()
    const layer = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(9) })
    const xHost = randomArray(M * K, 5)
    const x = d.tensor(xHost, [M, K])
    const w = (await layer.weight.read()) as Float32Array
    d.resetKernelStats()
    for (let i = 0; i < 5; i++) expectClose(await product(x, layer.weight), reference(xHost, w), 1e-5, 1e-5)
    expect(packs(d)).toBe(1)
    expect(d.kernelStats().packCache).toMatchObject({ hits: 4, misses: 1, entries: 1 })
    // The other orientation (x·W, as a backward's input gradient) is a second pack, also kept.
    const xt = d.tensor(randomArray(M * N, 6), [M, N])
    for (let i = 0; i < 3; i++) noGrad(() => ops.matmul(xt, layer.weight)).dispose()
    expect(packs(d)).toBe(2)
    expect(d.kernelStats().packCache.entries).toBe(2)
    // A B that is not a parameter (an activation, an input batch) is packed on every call, never kept.
    const notParam = d.tensor(w, [N, K])
    for (let i = 0; i < 3; i++) noGrad(() => ops.linear(x, notParam)).dispose()
    expect(packs(d)).toBe(5)
    expect(d.kernelStats().packCache.entries).toBe(2)
    for (const t of [x, xt, notParam]) t.dispose()
    layer.dispose()
    expect(d.kernelStats().packCache.entries).toBe(0)
  })

  it('disposing the weight frees its pack (texture accounting); the cap evicts; cap 0 keeps nothing', async () => {
    const d = await gpuDevice()
    await d.sync()
    const base = d.memory()
    const layer = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(10) })
    const x = d.tensor(randomArray(M * K, 7), [M, K])
    await product(x, layer.weight)
    const held = d.memory()
    expect(held.derived.entries).toBe(1)
    expect(held.derived.bytes).toBeGreaterThanOrEqual(N * K * 4)
    expect(held.textureBytes).toBe(base.textureBytes + held.derived.bytes)
    layer.dispose()
    const freed = d.memory()
    expect(freed.derived).toEqual({ entries: 0, bytes: 0 })
    expect(freed.textureBytes).toBe(base.textureBytes)
    expect(d.kernelStats().packCache.invalidated).toBeGreaterThanOrEqual(1)

    // Two weights under a cap that holds one: the older pack is evicted.
    const a = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(11) })
    const b = new nn.Linear(d, K, N, { bias: false, rng: new nn.HostRandom(12) })
    await product(x, a.weight)
    const one = d.memory().derived.bytes
    const cap = d.packCacheBytes
    d.packCacheBytes = one
    d.resetKernelStats()
    await product(x, b.weight)
    expect(d.kernelStats().packCache).toMatchObject({ entries: 1, evicted: 1 })
    await product(x, b.weight)
    expect(packs(d)).toBe(1)
    d.packCacheBytes = 0
    expect(d.memory().derived).toEqual({ entries: 0, bytes: 0 })
    await product(x, b.weight)
    await product(x, b.weight)
    expect(packs(d)).toBe(3)
    expect(d.memory().textureBytes).toBe(base.textureBytes)
    d.packCacheBytes = cap
    for (const t of [a, b]) t.dispose()
    x.dispose()
  })
})

/** A plain copy: a kernel with B as its output. */
const COPY: Kernel<{ size: number }> = {
  name: 'test.copy',
  key: () => '',
  shader: () => ({
    inputs: [{ name: 'src', dtype: 'f32' }],
    outputs: [{ name: 'dst', dtype: 'f32' }],
    uniforms: [{ name: 'size', type: 'u32' }],
    workgroupSize: 64,
    body: 'let i = wg * 64u + lidx; if (i < u.size) { dst[i] = src[i]; }',
  }),
  uniforms: (p) => [p.size],
  workgroups: (p) => Math.ceil(p.size / 64),
  cpu: (_, [src], [dst]) => dst!.set(src!),
}

describe('the cache on both backends, through the variants (buffer packs included)', () => {
  for (const [backendName, device] of [['cpu', cpuDevice], ['webgpu', gpuDevice]] as const) {
    for (const variantName of ['texture.8x16.t16', 'vec4.8x16'] as const) {
      it(`${backendName}, ${variantName}: reuse, invalidation by a write, release frees the pack`, async () => {
        const d = await device()
        const backend = d.backend
        const variant = MATMUL_VARIANTS[variantName]
        const p: MatmulParams = { dtype: 'f32', batch: 1, m: 5, n: 36, k: 20, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0, bias: 'none', activation: 'none' }
        const upload = (data: Float32Array): Storage => {
          const s = backend.alloc('f32', data.length)
          backend.write(s, data)
          return s
        }
        const aHost = randomArray(p.m * p.k, 1)
        let bHost = randomArray(p.n * p.k, 2)
        await d.sync()
        const base = d.memory()
        const [a, b, out] = [upload(aHost), upload(bHost), backend.alloc('f32', p.m * p.n)]
        const check = async () => {
          const expected = new Float32Array(p.m * p.n)
          matmulCpu(p, aHost, bHost, undefined, expected)
          expectClose(await backend.read(out), expected, 1e-5, 1e-5)
        }
        d.resetKernelStats()
        variant.run(backend, p, a, b, undefined, out, { reuseB: true })
        await check()
        variant.run(backend, p, a, b, undefined, out, { reuseB: true })
        await check()
        const packName = variantName.startsWith('vec4') ? 'matmul.packB.buffer' : 'matmul.packB.texture'
        expect(d.kernelStats().dispatches[packName]).toBe(1)
        expect(d.memory().derived.entries).toBe(1)
        const version = b.version
        bHost = randomArray(p.n * p.k, 3)
        backend.write(b, bHost)
        expect(b.version).toBe(version + 1)
        expect(d.memory().derived.entries).toBe(0)
        variant.run(backend, p, a, b, undefined, out, { reuseB: true })
        await check()
        expect(d.kernelStats().dispatches[packName]).toBe(2)
        // A kernel writing B (a copy into it) is a new version too.
        bHost = randomArray(p.n * p.k, 4)
        const src = upload(bHost)
        backend.run(COPY, { size: p.n * p.k }, [src], [b])
        expect(d.memory().derived.entries).toBe(0)
        variant.run(backend, p, a, b, undefined, out, { reuseB: true })
        await check()
        expect(d.kernelStats().dispatches[packName]).toBe(3)
        expect(d.memory().derived.entries).toBe(1)
        for (const s of [a, b, out, src]) backend.release(s)
        await d.sync()
        const after = d.memory()
        expect(after.derived).toEqual({ entries: 0, bytes: 0 })
        expect(after.storages).toBe(base.storages)
        expect(after.inUseBytes).toBe(base.inUseBytes)
        expect(after.textureBytes).toBe(base.textureBytes)
      })
    }
  }
})
