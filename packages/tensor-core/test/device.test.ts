import { afterEach, describe, expect, it } from 'vitest'
import { AdapterError, Device, DeviceLimitError, DTypeError, InvalidArgumentError, ops, ShapeError, TensorStateError, TesseraError, tidy } from '../src/index.js'
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
  })

  it('the CPU backend has a size limit too (2 GiB by default, configurable): a 16 GiB zeros is a DeviceLimitError at once', async () => {
    const cpu = await Device.create({ backend: 'cpu' })
    expect(cpu.maxTensorBytes).toBe(2 ** 31)
    const started = performance.now()
    expect(() => ops.zeros(cpu, [4, 2 ** 30])).toThrow(DeviceLimitError) // before: 78 s of allocating
    expect(performance.now() - started).toBeLessThan(1000)
    expect(cpu.memory().storages).toBe(0)
    const small = await Device.create({ backend: 'cpu', maxTensorBytes: 1024 })
    expect(small.maxTensorBytes).toBe(1024)
    expect(() => ops.zeros(small, [257])).toThrow(/larger than the CPU backend's limit of 0\.0 MiB.*maxTensorBytes/)
    expect(() => small.tensor(new Float32Array(257), [257])).toThrow(DeviceLimitError)
    expect(ops.zeros(small, [256]).size).toBe(256)
    expect((await Device.create({ backend: 'cpu', maxTensorBytes: Infinity })).maxTensorBytes).toBe(Infinity)
    await expect(Device.create({ backend: 'cpu', maxTensorBytes: 0 })).rejects.toThrow(InvalidArgumentError)
  })

  it('WebGPU: maxTensorBytes lowers the adapter limit, with the same error', async () => {
    const gpu = await gpuDevice()
    const capped = await Device.create({ backend: 'webgpu', maxTensorBytes: 4096 })
    try {
      expect(capped.maxTensorBytes).toBe(4096)
      expect(() => ops.zeros(capped, [1025])).toThrow(DeviceLimitError)
      expect(await ops.zeros(capped, [1024]).read()).toHaveLength(1024)
      const huge = await Device.create({ backend: 'webgpu', maxTensorBytes: 2 ** 40 })
      expect(huge.maxTensorBytes).toBe(gpu.maxTensorBytes) // it cannot raise the adapter's
      huge.destroy()
    } finally {
      capped.destroy()
    }
  })

  it('backend names are checked: an unknown one lists the valid ones instead of using WebGPU', async () => {
    const error = await Device.create({ backend: 'cuda' as never }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error).toBeInstanceOf(TesseraError)
    expect((error as Error).message).toBe(`unknown backend "cuda": choose one of 'auto', 'webgpu', 'cpu'`)
  })

  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`only the dtypes the core has, on ${backend}: a Float64Array or 'f64' is a DTypeError, not zeros`, async () => {
      const d = backend === 'cpu' ? await Device.create({ backend: 'cpu' }) : await gpuDevice()
      const before = d.memory().storages
      expect(() => d.tensor(new Float64Array([1, 2, 3, 4]), [4])).toThrow(DTypeError)
      expect(() => d.tensor(new Float64Array([1, 2, 3, 4]), [4])).toThrow(/a Float64Array has no tensor dtype .*f32, f16, i32, u32/)
      expect(() => d.tensor(new Uint8Array(4), [4])).toThrow(/a Uint8Array has no tensor dtype/)
      expect(() => d.tensor(new BigInt64Array(4) as never, [4])).toThrow(DTypeError)
      expect(() => d.tensor(new Float32Array(4), [4], { dtype: 'f64' as never })).toThrow(/unknown dtype "f64"/)
      expect(() => ops.zeros(d, [4], 'f64' as never)).toThrow(DTypeError)
      expect(d.memory().storages).toBe(before)
      // Asked for by name, a conversion is fine.
      expect(Array.from(await d.tensor(new Float64Array([1.5, 2, 3, 4]), [4], { dtype: 'f32' }).read())).toEqual([1.5, 2, 3, 4])
      expect(Array.from(await d.tensor([1, 2], [2]).read())).toEqual([1, 2])
    })
  }

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
