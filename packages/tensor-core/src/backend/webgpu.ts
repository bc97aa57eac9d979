import { byteSize, f16BitsToF32, f32ToF16Bits, allocHost, type DType, type HostArray } from '../dtype.js'
import { AdapterError, DeviceLimitError, TesseraError } from '../errors.js'
import { emitWgsl, FAULT_WORDS, faultError, type Kernel, type ShaderSpec } from '../kernel.js'
import type { AdapterSummary, Backend, MemoryInfo, Storage } from './backend.js'
import { BufferPool } from './buffer-pool.js'
import { DEFAULT_PACK_CACHE_BYTES, DerivedCache } from './derived-cache.js'
import { TexturePool } from './texture-pool.js'
import { loadGpu, NO_ADAPTER_HELP } from './dawn.js'

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

export class GpuStorage implements Storage {
  version = 0
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly buffer: GPUBuffer,
  ) {}
}

/** A scratch texture from `allocTexture`; `size` counts floats (4 per texel). */
export class GpuTextureStorage implements Storage {
  readonly dtype = 'f32'
  readonly size: number
  version = 0
  readonly view: GPUTextureView
  constructor(readonly texture: GPUTexture) {
    this.size = texture.width * texture.height * 4
    this.view = texture.createView()
  }
}

interface CompiledKernel {
  pipeline: GPUComputePipeline
  layout: GPUBindGroupLayout
  /** Bytes of the uniform block, rounded to 16. */
  uniformBytes: number
  uniformTypes: ShaderSpec['uniforms']
  /** Binds the fault buffer after its outputs (ShaderSpec.faults). */
  faults: boolean
}

export interface WebGpuOptions {
  powerPreference?: GPUPowerPreference
  /** Dispatches recorded before a submit is forced. */
  dispatchesPerSubmit?: number
  /**
   * Submits a released buffer or scratch texture stays parked for reuse without being reused
   * before it is destroyed (default 64: several training steps).
   */
  poolIdleSubmits?: number
  /** Lowers the largest tensor below the adapter's binding limit (see DeviceOptions.maxTensorBytes). */
  maxTensorBytes?: number
  /** Bytes of derived storages (packed matmul weights) kept for reuse; see DeviceOptions.packCacheBytes. */
  packCacheBytes?: number
}

/** A kernel failed to compile or validate; carries the generated WGSL for debugging. */
export class KernelCompileError extends TesseraError {
  static override readonly code: string = 'kernel_compile'
  constructor(
    message: string,
    readonly wgsl: string,
  ) {
    super(message)
  }
}

const UNIFORM_ARENA_BYTES = 1 << 16

/**
 * Whether an adapter runs on the CPU (lavapipe, SwiftShader, WARP), which picks the kernel
 * variants suited to it. Dawn in Node names lavapipe in `device`/`description`; Chromium names
 * SwiftShader only in `architecture`, leaves the rest blank and marks it a fallback adapter
 * (`info.isFallbackAdapter`, formerly on the adapter: `adapterFallback`).
 */
export function isSoftwareAdapter(
  info: { architecture: string; device: string; description: string; isFallbackAdapter?: boolean },
  adapterFallback?: boolean,
): boolean {
  if (info.isFallbackAdapter ?? adapterFallback) return true
  return info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|warp|basic render/i.test(`${info.architecture} ${info.device} ${info.description}`)
}

/**
 * WebGPU execution. One command encoder (and one compute pass) stays open; dispatches are
 * recorded into it and submitted in groups, or when data is read back. Uniforms of all
 * dispatches in a group are packed into one arena, uploaded once per submit, and addressed
 * with dynamic offsets, so a dispatch costs a bind group and a few encoder calls.
 */
export class WebGpuBackend implements Backend {
  readonly supportsF16: boolean
  private readonly pool: BufferPool
  private readonly textures: TexturePool
  /** MAP_READ buffers that `read` copies into: a training step reads its metrics every step. */
  private readonly staging: BufferPool
  readonly maxTensorBytes: number
  peakAllocBytes = 0
  readonly maxTextureDimension2D: number
  readonly maxStorageBuffersPerKernel: number
  readonly derived: DerivedCache
  readonly dispatchCounts = new Map<string, number>()
  private readonly pipelines = new Map<string, CompiledKernel>()
  private encoder: GPUCommandEncoder | null = null
  private pass: GPUComputePassEncoder | null = null
  private dispatches = 0
  private readonly uniformAlign: number
  private readonly arenaHost = new ArrayBuffer(UNIFORM_ARENA_BYTES)
  private readonly arenaU32 = new Uint32Array(this.arenaHost)
  private readonly arenaI32 = new Int32Array(this.arenaHost)
  private readonly arenaF32 = new Float32Array(this.arenaHost)
  private arenaUsed = 0
  /** One arena serves every group: its upload is queued after the previous group's submit. */
  private readonly arena: GPUBuffer
  /**
   * Where kernels with `faults` record the first bad value they meet (an out-of-range id);
   * `read` copies it back beside the data when such a kernel ran since the last read, clears it,
   * and throws the fault's error (the one the CPU reference throws at once).
   */
  private readonly faultBuffer: GPUBuffer
  private faultsRecorded = false
  /**
   * Buffers bound (read or written) by commands recorded but not yet submitted.
   * `queue.writeBuffer` runs ahead of those commands, so writing such a buffer from the host
   * first submits them: else a recorded kernel would read the new contents (loading weights
   * after a matmul was recorded but not submitted) or overwrite them.
   */
  private readonly pendingUses = new Set<GPUBuffer>()
  private readonly maxWorkgroupsPerDim: number
  private readonly dispatchesPerSubmit: number
  private destroyed = false
  private lostReason: string | null = null
  private compileError: KernelCompileError | null = null
  /** Validation results of pipelines created since the last read; awaited before data returns. */
  private pendingCompiles: Promise<void>[] = []

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    opts: WebGpuOptions,
  ) {
    this.supportsF16 = device.features.has('shader-f16')
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment
    this.maxWorkgroupsPerDim = device.limits.maxComputeWorkgroupsPerDimension
    this.dispatchesPerSubmit = opts.dispatchesPerSubmit ?? 64
    const idleSubmits = opts.poolIdleSubmits ?? 64
    // Kernels bind whole buffers, so no storage buffer may outgrow a binding; the pool's size
    // buckets are capped there too.
    this.maxTensorBytes = Math.min(device.limits.maxStorageBufferBindingSize, opts.maxTensorBytes ?? Number.POSITIVE_INFINITY)
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, idleSubmits, this.maxTensorBytes)
    this.textures = new TexturePool(device, idleSubmits)
    this.staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, idleSubmits)
    this.maxTextureDimension2D = device.limits.maxTextureDimension2D
    // Capped: foreach kernels generate a switch case per bound tensor, and some drivers report
    // limits in the thousands.
    this.maxStorageBuffersPerKernel = Math.min(device.limits.maxStorageBuffersPerShaderStage, 32)
    this.derived = new DerivedCache((s) => this.release(s), opts.packCacheBytes ?? DEFAULT_PACK_CACHE_BYTES)
    this.arena = device.createBuffer({ size: UNIFORM_ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
    this.faultBuffer = device.createBuffer({ size: FAULT_WORDS * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST })
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`
    })
  }

  static async create(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
    const gpu = await loadGpu()
    const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference })
    if (!adapter) throw new AdapterError(NO_ADAPTER_HELP)
    const features: GPUFeatureName[] = []
    if (adapter.features.has('shader-f16')) features.push('shader-f16')
    const limits = adapter.limits
    const device = await adapter.requestDevice({
      requiredFeatures: features,
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
        maxTextureDimension2D: limits.maxTextureDimension2D,
        minUniformBufferOffsetAlignment: limits.minUniformBufferOffsetAlignment,
      },
    })
    const info = adapter.info
    const software = isSoftwareAdapter(info, (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter)
    const summary: AdapterSummary = {
      backend: 'webgpu',
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description || info.device,
      software,
      features: [...adapter.features],
    }
    return new WebGpuBackend(device, summary, opts)
  }

  alloc(dtype: DType, size: number): GpuStorage {
    this.checkAlive()
    // Buffers are whole 4-byte words (f16 pairs share one) and never zero-sized.
    const bytes = Math.max(16, Math.ceil((size * byteSize(dtype)) / 4) * 4)
    this.peakAllocBytes = Math.max(this.peakAllocBytes, bytes)
    if (bytes > this.maxTensorBytes) {
      throw new DeviceLimitError(
        `a ${dtype} tensor of ${size} elements (${mib(bytes)}) is larger than this device's limit of ${mib(this.maxTensorBytes)} (what the adapter lets a kernel bind, maxStorageBufferBindingSize ${mib(this.device.limits.maxStorageBufferBindingSize)}, or the maxTensorBytes option): run the work in smaller batches`,
      )
    }
    return new GpuStorage(dtype, size, this.pool.acquireBuffer(bytes))
  }

  allocTexture(width: number, height: number): GpuTextureStorage {
    this.checkAlive()
    return new GpuTextureStorage(this.textures.acquireTexture(width, height, this.maxTextureDimension2D))
  }

  write(storage: Storage, data: HostArray): void {
    this.checkAlive()
    const s = storage as GpuStorage
    this.derived.written(s)
    if (s.size === 0) return
    if (this.pendingUses.has(s.buffer)) this.flush()
    let bytes: ArrayBufferView
    if (s.dtype === 'f16') {
      const bits = new Uint16Array(s.size + (s.size & 1))
      for (let i = 0; i < s.size; i++) bits[i] = f32ToF16Bits(data[i]!)
      bytes = bits
    } else if (data.buffer instanceof ArrayBuffer) {
      bytes = data
    } else {
      // Dawn's writeBuffer crashes on views of a SharedArrayBuffer (shared wasm memory).
      bytes = data.slice()
    }
    const byteLength = Math.ceil(bytes.byteLength / 4) * 4
    if (byteLength !== bytes.byteLength) {
      const padded = new Uint8Array(byteLength)
      padded.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      bytes = padded
    }
    this.device.queue.writeBuffer(s.buffer, 0, bytes.buffer as ArrayBuffer, bytes.byteOffset, byteLength)
  }

  async read(storage: Storage): Promise<HostArray> {
    this.checkAlive()
    const s = storage as GpuStorage
    const out = allocHost(s.dtype, s.size)
    if (s.size === 0) return out
    const bytes = Math.ceil((s.size * byteSize(s.dtype)) / 4) * 4
    // Faults ride in the same staging buffer, after the data: one map per read.
    const faults = this.faultsRecorded
    const staging = this.staging.acquireBuffer(bytes + (faults ? FAULT_WORDS * 4 : 0))
    this.endPass()
    const encoder = this.ensureEncoder()
    encoder.copyBufferToBuffer(s.buffer, 0, staging, 0, bytes)
    if (faults) {
      encoder.copyBufferToBuffer(this.faultBuffer, 0, staging, bytes, FAULT_WORDS * 4)
      encoder.clearBuffer(this.faultBuffer)
      this.faultsRecorded = false
    }
    this.flush()
    await this.settleCompiles()
    await staging.mapAsync(GPUMapMode.READ)
    const mapped = staging.getMappedRange()
    if (s.dtype === 'f16') {
      const bits = new Uint16Array(mapped, 0, s.size)
      for (let i = 0; i < s.size; i++) out[i] = f16BitsToF32(bits[i]!)
    } else {
      out.set(new (out.constructor as typeof Float32Array)(mapped, 0, s.size))
    }
    const fault = faults ? Int32Array.from(new Int32Array(mapped, bytes, FAULT_WORDS)) : null
    staging.unmap()
    this.staging.release(staging)
    if (fault && fault[0] !== 0) throw faultError(fault[1]!, fault[2]!, fault[3]!, fault[4]!)
    return out
  }

  run<P>(kernel: Kernel<P>, params: P, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    this.checkAlive()
    const groups = kernel.workgroups(params)
    const grid = typeof groups === 'number' ? this.fold(groups) : groups
    // Versions move even for an empty grid: the outputs are what a write of them would leave.
    for (const s of outputs) this.derived.written(s)
    this.dispatchCounts.set(kernel.name, (this.dispatchCounts.get(kernel.name) ?? 0) + 1)
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return
    const compiled = this.compile(kernel, params)
    const offset = this.packUniforms(compiled, kernel.uniforms(params))
    const bindGroup = this.bindGroupFor(compiled, [...inputs, ...outputs] as (GpuStorage | GpuTextureStorage)[])
    if (compiled.faults) this.faultsRecorded = true
    for (const s of inputs) if (s instanceof GpuStorage) this.pendingUses.add(s.buffer)
    for (const s of outputs) if (s instanceof GpuStorage) this.pendingUses.add(s.buffer)
    const pass = this.ensurePass()
    pass.setPipeline(compiled.pipeline)
    pass.setBindGroup(0, bindGroup, [offset])
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2])
    if (++this.dispatches >= this.dispatchesPerSubmit) this.flush()
  }

  release(storage: Storage): void {
    if (this.destroyed) return
    this.derived.released(storage)
    if (storage instanceof GpuTextureStorage) this.textures.release(storage.texture)
    else this.pool.release((storage as GpuStorage).buffer)
  }

  flush(): void {
    if (!this.encoder || this.destroyed) return
    this.endPass()
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost, 0, this.arenaUsed)
    this.device.queue.submit([this.encoder.finish()])
    this.encoder = null
    this.pendingUses.clear()
    this.dispatches = 0
    this.arenaUsed = 0
    this.pool.onSubmit()
    this.textures.onSubmit()
    this.staging.onSubmit()
  }

  async sync(): Promise<void> {
    this.flush()
    await this.settleCompiles()
    await this.device.queue.onSubmittedWorkDone()
  }

  memory(): MemoryInfo {
    const p = this.pool
    const { entries, bytes } = this.derived.stats()
    return { inUseBytes: p.inUseBytes, pooledBytes: p.pooledBytes, pendingBytes: p.pendingBytes, storages: p.inUse, textureBytes: this.textures.inUseBytes, derived: { entries, bytes } }
  }

  /**
   * Stops accepting work at once; frees GPU memory and the device once the queue is idle.
   * Destroying under running work made lavapipe crash in the next test file's work.
   */
  destroy(): void {
    if (this.destroyed) return
    this.derived.clear()
    this.flush()
    this.destroyed = true
    void this.device.queue.onSubmittedWorkDone().then(() => {
      this.pool.destroy()
      this.textures.destroy()
      this.staging.destroy()
      this.arena.destroy()
      this.faultBuffer.destroy()
      this.device.destroy()
    })
  }

  /** Compiled pipelines so far (sizes travel as uniforms, so this grows with variants only). */
  get pipelineCount(): number {
    return this.pipelines.size
  }

  /** WGSL of a kernel for given params, as the backend would compile it. */
  static wgslOf<P>(kernel: Kernel<P>, params: P): string {
    return emitWgsl(kernel.shader(params))
  }

  private async settleCompiles(): Promise<void> {
    if (this.pendingCompiles.length) {
      const pending = this.pendingCompiles
      this.pendingCompiles = []
      await Promise.all(pending)
    }
    this.throwCompileError()
  }

  /** A kernel that failed to compile is reported once, at the next call that can throw. */
  private throwCompileError(): void {
    const err = this.compileError
    if (err) {
      this.compileError = null
      throw err
    }
  }

  private checkAlive(): void {
    if (this.destroyed) throw new TesseraError('this Device was destroyed')
    if (this.lostReason) throw new AdapterError(`the GPU device was lost (${this.lostReason})`)
    this.throwCompileError()
  }

  private fold(groups: number): [number, number, number] {
    const max = this.maxWorkgroupsPerDim
    if (groups <= max) return [groups, 1, 1]
    const y = Math.ceil(groups / max)
    if (y <= max) return [max, y, 1]
    return [max, max, Math.ceil(groups / (max * max))]
  }

  private compile<P>(kernel: Kernel<P>, params: P): CompiledKernel {
    const key = `${kernel.name}|${kernel.key(params)}`
    const cached = this.pipelines.get(key)
    if (cached) return cached
    const spec = kernel.shader(params)
    const code = emitWgsl(spec)
    const entry = (b: ShaderSpec['inputs'][number], binding: number, output: boolean): GPUBindGroupLayoutEntry => {
      const visibility = GPUShaderStage.COMPUTE
      if (!b.texture) return { binding, visibility, buffer: { type: output ? 'storage' : 'read-only-storage' } }
      if (output) return { binding, visibility, storageTexture: { access: 'write-only', format: 'rgba32float' } }
      return { binding, visibility, texture: { sampleType: 'unfilterable-float' } }
    }
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...spec.inputs.map((b, i) => entry(b, 1 + i, false)),
        ...spec.outputs.map((b, i) => entry(b, 1 + spec.inputs.length + i, true)),
        ...(spec.faults ? [{ binding: 1 + spec.inputs.length + spec.outputs.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } }] : []),
      ],
    })
    this.device.pushErrorScope('validation')
    const module = this.device.createShaderModule({ code })
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    })
    // Compile errors surface asynchronously: the next call on this backend throws them.
    this.pendingCompiles.push(
      this.device.popErrorScope().then((error) => {
        if (error) this.compileError ??= new KernelCompileError(`kernel ${key} failed to compile: ${error.message}\n${code}`, code)
      }),
    )
    const uniformBytes = Math.max(16, Math.ceil((Math.max(1, spec.uniforms.length) * 4) / 16) * 16)
    const compiled = { pipeline, layout, uniformBytes, uniformTypes: spec.uniforms, faults: spec.faults === true }
    this.pipelines.set(key, compiled)
    return compiled
  }

  /**
   * A bind group per dispatch. Caching them by (pipeline, buffers) saved a native call per
   * dispatch but made lavapipe crash intermittently (SIGSEGV on its queue thread) over long
   * runs; with one per dispatch, the full suite and the 10,000-step leak test never did.
   */
  private bindGroupFor(compiled: CompiledKernel, resources: (GpuStorage | GpuTextureStorage)[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: compiled.uniformBytes } }]
    resources.forEach((r, i) => entries.push({ binding: 1 + i, resource: r instanceof GpuTextureStorage ? r.view : { buffer: r.buffer } }))
    if (compiled.faults) entries.push({ binding: 1 + resources.length, resource: { buffer: this.faultBuffer } })
    return this.device.createBindGroup({ layout: compiled.layout, entries })
  }


  private packUniforms(compiled: CompiledKernel, values: number[]): number {
    const slot = Math.ceil(compiled.uniformBytes / this.uniformAlign) * this.uniformAlign
    if (this.arenaUsed + slot > UNIFORM_ARENA_BYTES) this.flush()
    const offset = this.arenaUsed
    const base = offset / 4
    compiled.uniformTypes.forEach((field, i) => {
      const v = values[i]!
      if (field.type === 'f32') this.arenaF32[base + i] = v
      else if (field.type === 'i32') this.arenaI32[base + i] = v
      else this.arenaU32[base + i] = v
    })
    this.arenaUsed += slot
    return offset
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder()
    return this.encoder
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass()
    return this.pass
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end()
      this.pass = null
    }
  }
}
