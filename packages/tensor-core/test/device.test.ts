import { afterEach, describe, expect, it } from 'vitest'
import { AdapterError, Device, DeviceLimitError, ops, ShapeError, TensorStateError, tidy } from '../src/index.js'
import { isSoftwareAdapter, type WebGpuBackend } from '../src/backend/webgpu.js'
import { BufferPool } from '../src/backend/buffer-pool.js'
import { gpuDevice, randomArray } from './helpers.js'

describe('Device', () => {
  const realNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  afterEach(() => {
    if (realNavigator) Object.defineProperty(globalThis, 'navigator', realNavigator)
    else delete (globalThis as { navigator?: unknown }).navigator
  })

  it('without an adapter: webgpu throws a typed error naming what to install; auto falls back to cpu', async () => {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true })
    await expect(Device.create({ backend: 'webgpu' })).rejects.toThrow(AdapterError)
    await expect(Device.create({ backend: 'webgpu' })).rejects.toThrow(/mesa-vulkan-drivers/)
    const d = await Device.create({ backend: 'auto' })
    expect(d.kind).toBe('cpu')
  })

  it('rejects data that does not fill the shape, and use after dispose', async () => {
    const d = await gpuDevice()
    expect(() => d.tensor(new Float32Array(5), [2, 3])).toThrow(ShapeError)
    const t = d.tensor(new Float32Array(6), [2, 3])
    t.dispose()
    expect(() => ops.exp(t)).toThrow(TensorStateError)
  })

  it('compiles nothing new when only sizes change (sizes travel as uniforms)', async () => {
    const d = await gpuDevice()
    const backend = d.backend as WebGpuBackend
    const run = (n: number) =>
      tidy(() => {
        const x = d.tensor(randomArray(n * 8, n), [n, 8])
        return ops.softmax(ops.matmul(x, x, { transB: true }))
      })
    await run(3).read()
    const compiled = backend.pipelineCount
    for (const n of [4, 17, 64, 65]) {
      const y = run(n)
      expect(y.shape).toEqual([n, n])
      await y.read()
      y.dispose()
    }
    expect(backend.pipelineCount).toBe(compiled)
  })

  it('keeps the pool bounded and reuses buffers across iterations', async () => {
    const d = await gpuDevice()
    const x = d.tensor(randomArray(1000, 1), [1000])
    for (let i = 0; i < 300; i++) tidy(() => {
      ops.sum(ops.exp(ops.mul(x, i)))
    })
    await d.sync()
    const warm = d.memory()
    for (let i = 0; i < 200; i++) tidy(() => {
      ops.sum(ops.exp(ops.mul(x, i)))
    })
    await d.sync()
    const later = d.memory()
    expect(later.storages).toBe(warm.storages)
    expect(later.inUseBytes + later.pooledBytes + later.pendingBytes).toBe(warm.inUseBytes + warm.pooledBytes + warm.pendingBytes)
    x.dispose()
  })

  it('classifies CPU adapters as software, as Dawn in Node and Chromium describe them', () => {
    const blank = { architecture: '', device: '', description: '' }
    expect(isSoftwareAdapter({ ...blank, device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true)
    // Chromium's SwiftShader: the name only in architecture, and a fallback adapter (info or, in older browsers, the adapter).
    expect(isSoftwareAdapter({ ...blank, architecture: 'swiftshader', isFallbackAdapter: true })).toBe(true)
    expect(isSoftwareAdapter({ ...blank, architecture: 'swiftshader' })).toBe(true)
    expect(isSoftwareAdapter(blank, true)).toBe(true)
    expect(isSoftwareAdapter({ architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA H200', isFallbackAdapter: false })).toBe(false)
    expect(isSoftwareAdapter(blank)).toBe(false)
  })

  it('reads back through pooled staging buffers: a loop that reads every iteration creates none once warm', async () => {
    const d = await gpuDevice()
    const gpu = (d.backend as WebGpuBackend).device
    const createBuffer = gpu.createBuffer.bind(gpu)
    let created = 0
    gpu.createBuffer = (desc: GPUBufferDescriptor) => (created++, createBuffer(desc))
    try {
      const x = d.tensor(randomArray(1000, 2), [1000])
      const iteration = async (i: number) => {
        const y = tidy(() => ops.sum(ops.mul(x, i)))
        const [value] = await y.read()
        y.dispose()
        return value!
      }
      const total = Array.from(await x.read()).reduce((s, v) => s + v, 0)
      await iteration(0)
      created = 0
      for (let i = 1; i <= 5; i++) expect(await iteration(i)).toBeCloseTo(total * i, 2)
      expect(created).toBe(0)
      x.dispose()
    } finally {
      gpu.createBuffer = createBuffer
    }
  })

  it('refuses a tensor larger than a kernel can bind with a typed error, before touching the adapter', async () => {
    const d = await gpuDevice()
    expect(d.maxTensorBytes).toBe((d.backend as WebGpuBackend).device.limits.maxStorageBufferBindingSize)
    const before = d.memory()
    expect(() => ops.zeros(d, [d.maxTensorBytes / 4 + 1])).toThrow(DeviceLimitError)
    expect(() => ops.zeros(d, [d.maxTensorBytes / 4 + 1])).toThrow(/maxStorageBufferBindingSize/)
    expect(d.memory().storages).toBe(before.storages)
    const fits = ops.zeros(d, [d.maxTensorBytes / 4])
    expect(fits.shape).toEqual([d.maxTensorBytes / 4])
    fits.dispose()
    expect((await Device.create({ backend: 'cpu' })).maxTensorBytes).toBe(Number.POSITIVE_INFINITY)
  })

  it('caps the pool\'s size buckets at the binding limit, so a tensor that fits is never given a buffer that does not', () => {
    const sizes: number[] = []
    const fakeDevice = { createBuffer: (desc: GPUBufferDescriptor) => (sizes.push(desc.size), { destroy() {} }) } as unknown as GPUDevice
    const pool = new BufferPool(fakeDevice, 0, 64, 1000)
    pool.acquireBuffer(800) // its bucket, 896, is under the cap
    pool.acquireBuffer(990) // its bucket, 1,024, is not: capped at the limit
    pool.acquireBuffer(1200) // beyond the limit (alloc refuses those first): its exact size
    expect(sizes).toEqual([896, 1000, 1200])
    expect(BufferPool.bucket(990)).toBeGreaterThan(1000)
  })
})
