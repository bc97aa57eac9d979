// src/errors.ts
var TesseraError = class extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
};
var ShapeError = class extends TesseraError {
};
var DTypeError = class extends TesseraError {
};
var AdapterError = class extends TesseraError {
};
var DeviceLimitError = class extends TesseraError {
};
var TensorStateError = class extends TesseraError {
};

// src/io/half.ts
var f32Scratch = new Float32Array(1);
var u32Scratch = new Uint32Array(f32Scratch.buffer);
function f16BitsToF32Bits(h) {
  const sign = (h & 32768) << 16;
  const exponent = h >>> 10 & 31;
  let mantissa = h & 1023;
  if (exponent === 31) return (sign | 2139095040 | mantissa << 13) >>> 0;
  if (exponent !== 0) return (sign | exponent + 112 << 23 | mantissa << 13) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  let f32Exponent = 113;
  while ((mantissa & 1024) === 0) {
    mantissa <<= 1;
    f32Exponent--;
  }
  return (sign | f32Exponent << 23 | (mantissa & 1023) << 13) >>> 0;
}
function f32BitsToF16Bits(bits) {
  const sign = bits >>> 16 & 32768;
  const f32Exponent = bits >>> 23 & 255;
  const mantissa = bits & 8388607;
  if (f32Exponent === 255) {
    return mantissa === 0 ? sign | 31744 : sign | 32256 | mantissa >>> 13;
  }
  const exponent = f32Exponent - 112;
  if (exponent >= 31) return sign | 31744;
  if (exponent >= 1) {
    const truncated2 = exponent << 10 | mantissa >>> 13;
    const rest2 = mantissa & 8191;
    const roundUp2 = rest2 > 4096 || rest2 === 4096 && (truncated2 & 1) === 1;
    return sign | truncated2 + (roundUp2 ? 1 : 0);
  }
  if (exponent < -10) return sign;
  const significand = mantissa | 8388608;
  const shift = 14 - exponent;
  const truncated = significand >>> shift;
  const rest = significand & (1 << shift) - 1;
  const half = 1 << shift - 1;
  const roundUp = rest > half || rest === half && (truncated & 1) === 1;
  return sign | truncated + (roundUp ? 1 : 0);
}
function f16BitsToF32(h) {
  u32Scratch[0] = f16BitsToF32Bits(h);
  return f32Scratch[0];
}
function f32ToF16Bits(x) {
  f32Scratch[0] = x;
  return f32BitsToF16Bits(u32Scratch[0]);
}

// src/dtype.ts
function byteSize(dtype) {
  return dtype === "f16" ? 2 : 4;
}
function dtypeOfArray(data) {
  if (data instanceof Int32Array) return "i32";
  if (data instanceof Uint32Array) return "u32";
  if (data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data)) return "f32";
  throw new DTypeError(`cannot infer a dtype from ${Object.prototype.toString.call(data)}; pass Float32Array, Int32Array or Uint32Array`);
}
function allocHost(dtype, size) {
  switch (dtype) {
    case "i32":
      return new Int32Array(size);
    case "u32":
      return new Uint32Array(size);
    default:
      return new Float32Array(size);
  }
}
function roundToF16(values) {
  for (let i = 0; i < values.length; i++) values[i] = f16BitsToF32(f32ToF16Bits(values[i]));
  return values;
}

// src/backend/cpu.ts
var CpuStorage = class {
  constructor(dtype, size, data) {
    this.dtype = dtype;
    this.size = size;
    this.data = data;
  }
  dtype;
  size;
  data;
};
var CpuBackend = class {
  adapter = {
    backend: "cpu",
    vendor: "tessera",
    architecture: "cpu-reference",
    description: "plain TypeScript reference backend",
    software: true,
    features: ["shader-f16"]
  };
  supportsF16 = true;
  live = 0;
  liveBytes = 0;
  alloc(dtype, size) {
    this.live++;
    this.liveBytes += size * byteSize(dtype);
    return new CpuStorage(dtype, size, allocHost(dtype, size));
  }
  maxTensorBytes = Number.POSITIVE_INFINITY;
  maxTextureDimension2D = 1 << 16;
  /** No binding limit here; 16 (lavapipe's and many GPUs' limit) groups foreach kernels as a GPU would. */
  maxStorageBuffersPerKernel = 16;
  /** Texels are four consecutive floats, rows of `width` texels. */
  allocTexture(width, height) {
    return this.alloc("f32", width * height * 4);
  }
  write(storage, data) {
    const s = storage;
    s.data.set(data);
    if (s.dtype === "f16") roundToF16(s.data);
  }
  async read(storage) {
    return storage.data.slice();
  }
  run(kernel, params, inputs, outputs) {
    const outs = outputs.map((o) => o.data);
    kernel.cpu(
      params,
      inputs.map((i) => i.data),
      outs
    );
    outputs.forEach((o, i) => {
      if (o.dtype === "f16") roundToF16(outs[i]);
    });
  }
  release(storage) {
    this.live--;
    this.liveBytes -= storage.size * byteSize(storage.dtype);
  }
  flush() {
  }
  async sync() {
  }
  memory() {
    return { inUseBytes: this.liveBytes, pooledBytes: 0, pendingBytes: 0, storages: this.live };
  }
  destroy() {
  }
};

// src/kernel.ts
function emitWgsl(spec) {
  const usesF16 = [...spec.inputs, ...spec.outputs].some((b) => b.dtype === "f16");
  const lines = [];
  if (usesF16 || spec.module?.includes("f16") || spec.body.includes("f16")) lines.push("enable f16;");
  const uniformFields = spec.uniforms.length ? spec.uniforms : [{ name: "_pad", type: "u32" }];
  lines.push(`struct Uniforms { ${uniformFields.map((f) => `${f.name}: ${f.type},`).join(" ")} }`);
  lines.push("@group(0) @binding(0) var<uniform> u: Uniforms;");
  let binding = 1;
  for (const b of spec.inputs) {
    const type = b.texture ? "texture_2d<f32>" : `array<${b.vec4 ? `vec4<${b.dtype}>` : b.dtype}>`;
    lines.push(`@group(0) @binding(${binding++}) var${b.texture ? "" : "<storage, read>"} ${b.name}: ${type};`);
  }
  for (const b of spec.outputs) {
    const decl = b.texture ? `var ${b.name}: texture_storage_2d<rgba32float, write>` : `var<storage, read_write> ${b.name}: array<${b.vec4 ? `vec4<${b.dtype}>` : b.dtype}>`;
    lines.push(`@group(0) @binding(${binding++}) ${decl};`);
  }
  if (spec.module) lines.push(spec.module);
  const ws = typeof spec.workgroupSize === "number" ? [spec.workgroupSize, 1, 1] : spec.workgroupSize;
  lines.push(`@compute @workgroup_size(${ws.join(", ")})
fn main(@builtin(local_invocation_index) lidx: u32, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wg = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
${spec.body}
}`);
  return lines.join("\n");
}
function groupsFor(n, perGroup) {
  return Math.ceil(n / perGroup);
}

// src/backend/resource-pool.ts
var ResourcePool = class {
  constructor(idleSubmits) {
    this.idleSubmits = idleSubmits;
  }
  idleSubmits;
  /** Parked resources by size class. */
  free = /* @__PURE__ */ new Map();
  /** Parked resources and the submit they were parked at, oldest first: eviction order. */
  parked = /* @__PURE__ */ new Map();
  pending = [];
  sizes = /* @__PURE__ */ new Map();
  submits = 0;
  inUseBytes = 0;
  pooledBytes = 0;
  pendingBytes = 0;
  /** Resources in use. */
  inUse = 0;
  /**
   * A parked resource of size class `key` (`bytes` large), or a new one from `create`. Subclasses
   * name the size classes of their kind of resource (BufferPool.acquireBuffer, TexturePool.acquireTexture).
   */
  acquire(key, bytes, create) {
    const list = this.free.get(key);
    const reused = list?.values().next().value;
    this.inUseBytes += bytes;
    this.inUse++;
    if (reused) {
      list.delete(reused);
      this.parked.delete(reused);
      this.pooledBytes -= bytes;
      return reused;
    }
    const created = create();
    this.sizes.set(created, { key, bytes });
    return created;
  }
  release(resource) {
    const { bytes } = this.sizeOf(resource);
    this.inUseBytes -= bytes;
    this.inUse--;
    this.pending.push(resource);
    this.pendingBytes += bytes;
  }
  /** Called right after a submit: everything released before it may now be reused. */
  onSubmit() {
    this.submits++;
    for (const resource of this.pending) {
      const { key, bytes } = this.sizeOf(resource);
      let list = this.free.get(key);
      if (!list) this.free.set(key, list = /* @__PURE__ */ new Set());
      list.add(resource);
      this.parked.set(resource, this.submits);
      this.pooledBytes += bytes;
    }
    this.pending = [];
    this.pendingBytes = 0;
    for (const [oldest, parkedAt] of this.parked) {
      if (this.submits - parkedAt < this.idleSubmits) break;
      const { key, bytes } = this.sizeOf(oldest);
      this.parked.delete(oldest);
      this.free.get(key).delete(oldest);
      this.sizes.delete(oldest);
      this.pooledBytes -= bytes;
      oldest.destroy();
    }
  }
  destroy() {
    for (const r of this.parked.keys()) r.destroy();
    for (const r of this.pending) r.destroy();
    this.free.clear();
    this.parked.clear();
    this.pending = [];
    this.sizes.clear();
  }
  sizeOf(resource) {
    const size = this.sizes.get(resource);
    if (!size) throw new Error("ResourcePool: released a resource it did not create");
    return size;
  }
};

// src/backend/buffer-pool.ts
var BufferPool = class _BufferPool extends ResourcePool {
  constructor(device2, usage, idleSubmits, maxBucket = Number.POSITIVE_INFINITY) {
    super(idleSubmits);
    this.device = device2;
    this.usage = usage;
    this.maxBucket = maxBucket;
  }
  device;
  usage;
  maxBucket;
  /** Buckets of 8 steps per power of two: at most 12.5% wasted, few distinct sizes. */
  static bucket(bytes) {
    if (bytes <= 256) return 256;
    const step = 2 ** Math.ceil(Math.log2(bytes)) / 8;
    return Math.ceil(bytes / step) * step;
  }
  acquireBuffer(bytes) {
    const size = Math.min(_BufferPool.bucket(bytes), Math.max(bytes, this.maxBucket));
    return this.acquire(String(size), size, () => this.device.createBuffer({ size, usage: this.usage }));
  }
};

// src/backend/texture-pool.ts
var TexturePool = class _TexturePool extends ResourcePool {
  constructor(device2, idleSubmits) {
    super(idleSubmits);
    this.device = device2;
  }
  device;
  static round(texels) {
    if (texels <= 16) return 16;
    const step = 2 ** Math.ceil(Math.log2(texels)) / 8;
    return Math.ceil(texels / step) * step;
  }
  acquireTexture(width, height, max) {
    const w = Math.min(_TexturePool.round(width), max);
    const h = Math.min(_TexturePool.round(height), max);
    const create = () => this.device.createTexture({ size: [w, h], format: "rgba32float", usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING });
    return this.acquire(`${w}x${h}`, w * h * 16, create);
  }
};

// src/backend/dawn-polling.ts
var SPIN_MS = 1;
var PACE_MS = 1;
var NATIVE_SOURCE = /\{\s*\[native code\]\s*\}\s*$/;
var isNative = (f) => typeof f === "function" && NATIVE_SOURCE.test(Function.prototype.toString.call(f));
function pacedSetImmediate(immediate, timer, now = () => performance.now()) {
  let inNativeTick = false;
  let chainStart = 0;
  return (callback, ...args) => {
    if (!isNative(callback)) return immediate(callback, ...args);
    if (!inNativeTick) chainStart = now();
    const tick = () => {
      inNativeTick = true;
      try {
        callback(...args);
      } finally {
        inNativeTick = false;
      }
    };
    return now() - chainStart < SPIN_MS ? immediate(tick) : timer(tick, PACE_MS);
  };
}
var PACED = /* @__PURE__ */ Symbol.for("tessera.tensor-core.pacedSetImmediate");
function paceDawnPolling() {
  const g = globalThis;
  const real = g.setImmediate;
  if (!real || real[PACED]) return;
  const paced = pacedSetImmediate(real, (callback, ms) => setTimeout(callback, ms));
  for (const key of Reflect.ownKeys(real)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    Object.defineProperty(paced, key, Object.getOwnPropertyDescriptor(real, key));
  }
  Object.defineProperty(paced, PACED, { value: true });
  g.setImmediate = paced;
}

// src/backend/dawn.ts
var DAWN_GPU = /* @__PURE__ */ Symbol.for("tessera.tensor-core.dawnGpu");
function isNode() {
  return typeof process !== "undefined" && !!process.versions?.node;
}
async function loadGpu() {
  const nav = globalThis.navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) {
    throw new AdapterError('this browser exposes no navigator.gpu: use a WebGPU-capable browser (Chrome/Edge 113+, or enable WebGPU), or Device.create({ backend: "cpu" })');
  }
  let mod;
  try {
    mod = await import("webgpu");
  } catch (err) {
    throw new AdapterError(`could not load Dawn for Node (npm package "webgpu"): ${err.message}. Install it with \`pnpm add webgpu\`, or use Device.create({ backend: "cpu" })`);
  }
  for (const [name, value] of Object.entries(mod.globals)) {
    if (!(name in globalThis)) globalThis[name] = value;
  }
  paceDawnPolling();
  const shared = globalThis;
  shared[DAWN_GPU] ??= mod.create([]);
  return shared[DAWN_GPU];
}
var NO_ADAPTER_HELP = 'no WebGPU adapter was found. On Linux install a Vulkan driver: Mesa >= 23 lavapipe (Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers`; bookworm\'s own Mesa 22 is rejected by Dawn) and set XDG_RUNTIME_DIR to a writable directory; or use Device.create({ backend: "cpu" })';

// src/backend/webgpu.ts
var mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
var GpuStorage = class {
  constructor(dtype, size, buffer) {
    this.dtype = dtype;
    this.size = size;
    this.buffer = buffer;
  }
  dtype;
  size;
  buffer;
};
var GpuTextureStorage = class {
  constructor(texture) {
    this.texture = texture;
    this.size = texture.width * texture.height * 4;
    this.view = texture.createView();
  }
  texture;
  dtype = "f32";
  size;
  view;
};
var KernelCompileError = class extends TesseraError {
  constructor(message, wgsl) {
    super(message);
    this.wgsl = wgsl;
  }
  wgsl;
};
var UNIFORM_ARENA_BYTES = 1 << 16;
function isSoftwareAdapter(info, adapterFallback) {
  if (info.isFallbackAdapter ?? adapterFallback) return true;
  return info.architecture === "software" || /llvmpipe|lavapipe|swiftshader|warp|basic render/i.test(`${info.architecture} ${info.device} ${info.description}`);
}
var WebGpuBackend = class _WebGpuBackend {
  constructor(device2, adapter, opts) {
    this.device = device2;
    this.adapter = adapter;
    this.supportsF16 = device2.features.has("shader-f16");
    this.uniformAlign = device2.limits.minUniformBufferOffsetAlignment;
    this.maxWorkgroupsPerDim = device2.limits.maxComputeWorkgroupsPerDimension;
    this.dispatchesPerSubmit = opts.dispatchesPerSubmit ?? 64;
    const idleSubmits = opts.poolIdleSubmits ?? 64;
    this.maxTensorBytes = device2.limits.maxStorageBufferBindingSize;
    this.pool = new BufferPool(device2, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, idleSubmits, this.maxTensorBytes);
    this.textures = new TexturePool(device2, idleSubmits);
    this.staging = new BufferPool(device2, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, idleSubmits);
    this.maxTextureDimension2D = device2.limits.maxTextureDimension2D;
    this.maxStorageBuffersPerKernel = Math.min(device2.limits.maxStorageBuffersPerShaderStage, 32);
    this.arena = device2.createBuffer({ size: UNIFORM_ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device2.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }
  device;
  adapter;
  supportsF16;
  pool;
  textures;
  /** MAP_READ buffers that `read` copies into: a training step reads its metrics every step. */
  staging;
  maxTensorBytes;
  maxTextureDimension2D;
  maxStorageBuffersPerKernel;
  pipelines = /* @__PURE__ */ new Map();
  encoder = null;
  pass = null;
  dispatches = 0;
  uniformAlign;
  arenaHost = new ArrayBuffer(UNIFORM_ARENA_BYTES);
  arenaU32 = new Uint32Array(this.arenaHost);
  arenaI32 = new Int32Array(this.arenaHost);
  arenaF32 = new Float32Array(this.arenaHost);
  arenaUsed = 0;
  /** One arena serves every group: its upload is queued after the previous group's submit. */
  arena;
  /**
   * Buffers written by commands recorded but not yet submitted. `queue.writeBuffer` runs
   * ahead of those commands, so writing such a buffer from the host first submits them.
   */
  pendingWrites = /* @__PURE__ */ new Set();
  maxWorkgroupsPerDim;
  dispatchesPerSubmit;
  destroyed = false;
  lostReason = null;
  compileError = null;
  /** Validation results of pipelines created since the last read; awaited before data returns. */
  pendingCompiles = [];
  static async create(opts = {}) {
    const gpu = await loadGpu();
    const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
    if (!adapter) throw new AdapterError(NO_ADAPTER_HELP);
    const features = [];
    if (adapter.features.has("shader-f16")) features.push("shader-f16");
    const limits = adapter.limits;
    const device2 = await adapter.requestDevice({
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
        minUniformBufferOffsetAlignment: limits.minUniformBufferOffsetAlignment
      }
    });
    const info = adapter.info;
    const software = isSoftwareAdapter(info, adapter.isFallbackAdapter);
    const summary = {
      backend: "webgpu",
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description || info.device,
      software,
      features: [...adapter.features]
    };
    return new _WebGpuBackend(device2, summary, opts);
  }
  alloc(dtype, size) {
    this.checkAlive();
    const bytes = Math.max(16, Math.ceil(size * byteSize(dtype) / 4) * 4);
    if (bytes > this.maxTensorBytes) {
      throw new DeviceLimitError(
        `a ${dtype} tensor of ${size} elements (${mib(bytes)}) is larger than this adapter lets a kernel bind (maxStorageBufferBindingSize ${mib(this.maxTensorBytes)}): run the work in smaller batches`
      );
    }
    return new GpuStorage(dtype, size, this.pool.acquireBuffer(bytes));
  }
  allocTexture(width, height) {
    this.checkAlive();
    return new GpuTextureStorage(this.textures.acquireTexture(width, height, this.maxTextureDimension2D));
  }
  write(storage, data) {
    this.checkAlive();
    const s = storage;
    if (s.size === 0) return;
    if (this.pendingWrites.has(s.buffer)) this.flush();
    let bytes;
    if (s.dtype === "f16") {
      const bits = new Uint16Array(s.size + (s.size & 1));
      for (let i = 0; i < s.size; i++) bits[i] = f32ToF16Bits(data[i]);
      bytes = bits;
    } else if (data.buffer instanceof ArrayBuffer) {
      bytes = data;
    } else {
      bytes = data.slice();
    }
    const byteLength = Math.ceil(bytes.byteLength / 4) * 4;
    if (byteLength !== bytes.byteLength) {
      const padded = new Uint8Array(byteLength);
      padded.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      bytes = padded;
    }
    this.device.queue.writeBuffer(s.buffer, 0, bytes.buffer, bytes.byteOffset, byteLength);
  }
  async read(storage) {
    this.checkAlive();
    const s = storage;
    const out = allocHost(s.dtype, s.size);
    if (s.size === 0) return out;
    const bytes = Math.ceil(s.size * byteSize(s.dtype) / 4) * 4;
    const staging = this.staging.acquireBuffer(bytes);
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.flush();
    await this.settleCompiles();
    await staging.mapAsync(GPUMapMode.READ);
    const mapped = staging.getMappedRange();
    if (s.dtype === "f16") {
      const bits = new Uint16Array(mapped, 0, s.size);
      for (let i = 0; i < s.size; i++) out[i] = f16BitsToF32(bits[i]);
    } else {
      out.set(new out.constructor(mapped, 0, s.size));
    }
    staging.unmap();
    this.staging.release(staging);
    return out;
  }
  run(kernel, params, inputs, outputs) {
    this.checkAlive();
    const groups = kernel.workgroups(params);
    const grid = typeof groups === "number" ? this.fold(groups) : groups;
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const compiled = this.compile(kernel, params);
    const offset = this.packUniforms(compiled, kernel.uniforms(params));
    const bindGroup = this.bindGroupFor(compiled, [...inputs, ...outputs]);
    for (const s of outputs) if (s instanceof GpuStorage) this.pendingWrites.add(s.buffer);
    const pass = this.ensurePass();
    pass.setPipeline(compiled.pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (++this.dispatches >= this.dispatchesPerSubmit) this.flush();
  }
  release(storage) {
    if (this.destroyed) return;
    if (storage instanceof GpuTextureStorage) this.textures.release(storage.texture);
    else this.pool.release(storage.buffer);
  }
  flush() {
    if (!this.encoder || this.destroyed) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pendingWrites.clear();
    this.dispatches = 0;
    this.arenaUsed = 0;
    this.pool.onSubmit();
    this.textures.onSubmit();
    this.staging.onSubmit();
  }
  async sync() {
    this.flush();
    await this.settleCompiles();
    await this.device.queue.onSubmittedWorkDone();
  }
  memory() {
    const p = this.pool;
    return { inUseBytes: p.inUseBytes, pooledBytes: p.pooledBytes, pendingBytes: p.pendingBytes, storages: p.inUse };
  }
  /**
   * Stops accepting work at once; frees GPU memory and the device once the queue is idle.
   * Destroying under running work made lavapipe crash in the next test file's work.
   */
  destroy() {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    void this.device.queue.onSubmittedWorkDone().then(() => {
      this.pool.destroy();
      this.textures.destroy();
      this.staging.destroy();
      this.arena.destroy();
      this.device.destroy();
    });
  }
  /** Compiled pipelines so far (sizes travel as uniforms, so this grows with variants only). */
  get pipelineCount() {
    return this.pipelines.size;
  }
  /** WGSL of a kernel for given params, as the backend would compile it. */
  static wgslOf(kernel, params) {
    return emitWgsl(kernel.shader(params));
  }
  async settleCompiles() {
    if (this.pendingCompiles.length) {
      const pending = this.pendingCompiles;
      this.pendingCompiles = [];
      await Promise.all(pending);
    }
    this.throwCompileError();
  }
  /** A kernel that failed to compile is reported once, at the next call that can throw. */
  throwCompileError() {
    const err = this.compileError;
    if (err) {
      this.compileError = null;
      throw err;
    }
  }
  checkAlive() {
    if (this.destroyed) throw new TesseraError("this Device was destroyed");
    if (this.lostReason) throw new AdapterError(`the GPU device was lost (${this.lostReason})`);
    this.throwCompileError();
  }
  fold(groups) {
    const max = this.maxWorkgroupsPerDim;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    if (y <= max) return [max, y, 1];
    return [max, max, Math.ceil(groups / (max * max))];
  }
  compile(kernel, params) {
    const key = `${kernel.name}|${kernel.key(params)}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const spec = kernel.shader(params);
    const code = emitWgsl(spec);
    const entry = (b, binding, output) => {
      const visibility = GPUShaderStage.COMPUTE;
      if (!b.texture) return { binding, visibility, buffer: { type: output ? "storage" : "read-only-storage" } };
      if (output) return { binding, visibility, storageTexture: { access: "write-only", format: "rgba32float" } };
      return { binding, visibility, texture: { sampleType: "unfilterable-float" } };
    };
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } },
        ...spec.inputs.map((b, i) => entry(b, 1 + i, false)),
        ...spec.outputs.map((b, i) => entry(b, 1 + spec.inputs.length + i, true))
      ]
    });
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" }
    });
    this.pendingCompiles.push(
      this.device.popErrorScope().then((error) => {
        if (error) this.compileError ??= new KernelCompileError(`kernel ${key} failed to compile: ${error.message}
${code}`, code);
      })
    );
    const uniformBytes = Math.max(16, Math.ceil(Math.max(1, spec.uniforms.length) * 4 / 16) * 16);
    const compiled = { pipeline, layout, uniformBytes, uniformTypes: spec.uniforms };
    this.pipelines.set(key, compiled);
    return compiled;
  }
  /**
   * A bind group per dispatch. Caching them by (pipeline, buffers) saved a native call per
   * dispatch but made lavapipe crash intermittently (SIGSEGV on its queue thread) over long
   * runs; with one per dispatch, the full suite and the 10,000-step leak test never did.
   */
  bindGroupFor(compiled, resources) {
    const entries = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: compiled.uniformBytes } }];
    resources.forEach((r, i) => entries.push({ binding: 1 + i, resource: r instanceof GpuTextureStorage ? r.view : { buffer: r.buffer } }));
    return this.device.createBindGroup({ layout: compiled.layout, entries });
  }
  packUniforms(compiled, values) {
    const slot = Math.ceil(compiled.uniformBytes / this.uniformAlign) * this.uniformAlign;
    if (this.arenaUsed + slot > UNIFORM_ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    const base2 = offset / 4;
    compiled.uniformTypes.forEach((field, i) => {
      const v = values[i];
      if (field.type === "f32") this.arenaF32[base2 + i] = v;
      else if (field.type === "i32") this.arenaI32[base2 + i] = v;
      else this.arenaU32[base2 + i] = v;
    });
    this.arenaUsed += slot;
    return offset;
  }
  ensureEncoder() {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }
  ensurePass() {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }
  endPass() {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
};

// src/kernels/elementwise.ts
function computeTypeOf(dtype) {
  return dtype === "f16" ? "f32" : dtype;
}
var WG = 256;
var PER_INVOCATION = 8;
function isDirect(p, k) {
  if (k === -1 && !p.outRegion) return true;
  if (k >= 0 ? p.offsets[k] !== 0 : p.outRegion.offset !== 0) return false;
  const strides = k === -1 ? p.outRegion.strides : p.strides[k];
  let s = 1;
  for (let d = p.shape.length - 1; d >= 0; d--) {
    if (p.shape[d] !== 1 && strides[d] !== s) return false;
    s *= p.shape[d];
  }
  return true;
}
function movesQuads(p) {
  return p.size % 4 === 0 && allDirect(p);
}
var allDirect = (p) => [-1, ...p.strides.keys()].every((k) => isDirect(p, k));
var operandLayouts = (p) => [-1, ...p.strides.keys()].map((k) => isDirect(p, k) ? "d" : "b").join("");
var itemsOf = (p) => movesQuads(p) ? p.size / 4 : p.size;
var elementwiseKernel = {
  name: "elementwise",
  key: (p) => [p.op.name, p.kinds.join(""), p.inDtypes.join(","), p.compute, p.outDtype, p.shape.length, movesQuads(p) ? "q" : operandLayouts(p)].join("|"),
  shader(p) {
    if (movesQuads(p)) return quadShader(p);
    const rank = p.shape.length;
    const uniforms = [{ name: "size", type: "u32" }];
    for (let d = 0; d < rank; d++) uniforms.push({ name: `dim${d}`, type: "u32" });
    p.strides.forEach((_, k) => {
      for (let d = 0; d < rank; d++) uniforms.push({ name: `st${k}_${d}`, type: "u32" });
    });
    p.strides.forEach((_, k) => uniforms.push({ name: `off${k}`, type: "u32" }));
    const outStrided = !isDirect(p, -1);
    if (outStrided) {
      for (let d = 0; d < rank; d++) uniforms.push({ name: `ost${d}`, type: "u32" });
      uniforms.push({ name: "ooff", type: "u32" });
    }
    p.scalars.forEach((_, k) => uniforms.push({ name: `sc${k}`, type: p.compute }));
    const broadcast = p.strides.map((_, k) => k).filter((k) => !isDirect(p, k));
    const walkers = [...broadcast.map((k) => ({ v: `o${k}`, st: (d) => `u.st${k}_${d}`, init: `u.off${k}` }))];
    if (outStrided) walkers.push({ v: "oo", st: (d) => `u.ost${d}`, init: "u.ooff" });
    const lines = [];
    lines.push(`  for (var e = 0u; e < ${PER_INVOCATION}u; e++) {`, `  let i = (wg * ${PER_INVOCATION}u + e) * ${WG}u + lidx;`, "  if (i >= u.size) { return; }");
    if (walkers.length) {
      lines.push("  var rem = i;");
      for (const w of walkers) lines.push(`  var ${w.v} = ${w.init};`);
      for (let d = rank - 1; d >= 0; d--) {
        lines.push(`  { let c = rem % u.dim${d}; rem = rem / u.dim${d};${walkers.map((w) => ` ${w.v} += c * ${w.st(d)};`).join("")} }`);
      }
    }
    const args = [];
    let t = 0;
    let s = 0;
    for (const kind of p.kinds) {
      if (kind === "t") {
        const k = t++;
        args.push(`${p.compute}(in${k}[${broadcast.includes(k) ? `o${k}` : "i"}])`);
      } else {
        args.push(`u.sc${s++}`);
      }
    }
    lines.push(`  out[${outStrided ? "oo" : "i"}] = ${p.outDtype}(${p.op.wgsl(args, p.compute)});`, "  }");
    return {
      inputs: p.inDtypes.map((dtype, k) => ({ name: `in${k}`, dtype })),
      outputs: [{ name: "out", dtype: p.outDtype }],
      uniforms,
      workgroupSize: WG,
      module: WGSL_HELPERS,
      body: lines.join("\n")
    };
  },
  uniforms: (p) => movesQuads(p) ? [p.size, ...p.scalars] : [p.size, ...p.shape, ...p.strides.flat(), ...p.offsets, ...isDirect(p, -1) ? [] : [...p.outRegion.strides, p.outRegion.offset], ...p.scalars],
  workgroups: (p) => groupsFor(Math.ceil(itemsOf(p) / PER_INVOCATION), WG),
  cpu(p, inputs, outputs) {
    const out = outputs[0];
    if (allDirect(p)) return elementwiseDirectCpu(p, inputs, out);
    const rank = p.shape.length;
    const strides = [...p.strides, p.outRegion?.strides ?? contiguousStrides(p.shape)];
    const offsets = [...p.offsets, p.outRegion?.offset ?? 0];
    const last = strides.length - 1;
    const args = new Array(p.kinds.length);
    const coord = new Array(rank).fill(0);
    for (let i = 0; i < p.size; i++) {
      let t = 0;
      let s = 0;
      for (let a = 0; a < p.kinds.length; a++) {
        if (p.kinds[a] === "t") {
          args[a] = toCompute(inputs[t][offsets[t]], p.inDtypes[t], p.compute);
          t++;
        } else {
          args[a] = p.scalars[s++];
        }
      }
      out[offsets[last]] = p.op.cpu(args, p.compute);
      for (let d = rank - 1; d >= 0; d--) {
        coord[d]++;
        for (let k = 0; k < offsets.length; k++) offsets[k] += strides[k][d];
        if (coord[d] < p.shape[d]) break;
        for (let k = 0; k < offsets.length; k++) offsets[k] -= strides[k][d] * p.shape[d];
        coord[d] = 0;
      }
    }
  }
};
function quadShader(p) {
  const uniforms = [{ name: "size", type: "u32" }];
  p.scalars.forEach((_, k) => uniforms.push({ name: `sc${k}`, type: p.compute }));
  const lane = (c) => {
    let t = 0;
    let s = 0;
    const args = p.kinds.map((kind) => kind === "t" ? `${p.compute}(q${t++}.${c})` : `u.sc${s++}`);
    return `${p.outDtype}(${p.op.wgsl(args, p.compute)})`;
  };
  return {
    inputs: p.inDtypes.map((dtype, k) => ({ name: `in${k}`, dtype, vec4: true })),
    outputs: [{ name: "out", dtype: p.outDtype, vec4: true }],
    uniforms,
    workgroupSize: WG,
    module: WGSL_HELPERS,
    body: `  for (var e = 0u; e < ${PER_INVOCATION}u; e++) {
  let i = (wg * ${PER_INVOCATION}u + e) * ${WG}u + lidx;
  if (i >= u.size / 4u) { return; }
${p.inDtypes.map((_, k) => `  let q${k} = in${k}[i];`).join("\n")}
  out[i] = vec4<${p.outDtype}>(${["x", "y", "z", "w"].map(lane).join(", ")});
  }`
  };
}
function elementwiseDirectCpu(p, inputs, out) {
  const arity = p.kinds.length;
  const sources = [];
  const dtypes = [];
  const constants = [];
  let t = 0;
  let s = 0;
  for (const kind of p.kinds) {
    sources.push(kind === "t" ? inputs[t] : null);
    dtypes.push(kind === "t" ? p.inDtypes[t] : "f32");
    constants.push(kind === "t" ? 0 : p.scalars[s++]);
    if (kind === "t") t++;
  }
  const args = constants.slice();
  for (let i = 0; i < p.size; i++) {
    for (let a = 0; a < arity; a++) {
      const src = sources[a];
      if (src) args[a] = toCompute(src[i], dtypes[a], p.compute);
    }
    out[i] = p.op.cpu(args, p.compute);
  }
}
function toCompute(v, from, to) {
  if (to === "f32" || from === to) return v;
  if (from === "f32" || from === "f16") {
    if (Number.isNaN(v)) return 0;
    return Math.trunc(to === "i32" ? Math.min(Math.max(v, -2147483648), 2147483520) : Math.min(Math.max(v, 0), 4294967040));
  }
  return to === "i32" ? v | 0 : v >>> 0;
}
function contiguousStrides(shape) {
  const out = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d];
  }
  return out;
}
var WGSL_HELPERS = `
fn safe_tanh(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn erf_approx(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return sign(x) * y;
}
fn pow_signed(a: f32, b: f32) -> f32 {
  // WGSL's pow is undefined for a < 0 and gives NaN for 0^0; match IEEE/PyTorch instead.
  if (b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a >= 0.0) { return m; }
  if (fract(b) != 0.0) { var nan_bits = 0x7fc00000u; return bitcast<f32>(nan_bits); }
  return select(m, -m, (i32(b) & 1) == 1);
}
fn gelu_tanh_grad(x: f32) -> f32 {
  let th = safe_tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * 0.7978845608028654 * (1.0 + 0.134145 * x * x);
}
fn quick_gelu_grad(x: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-1.702 * x));
  return s + 1.702 * x * s * (1.0 - s);
}
`;

// src/kernels/fill.ts
var WG2 = 256;
var fillKernel = {
  name: "fill",
  key: (p) => p.dtype,
  shader: (p) => ({
    inputs: [],
    outputs: [{ name: "out", dtype: p.dtype }],
    uniforms: [
      { name: "size", type: "u32" },
      { name: "value", type: "f32" },
      { name: "step", type: "f32" }
    ],
    workgroupSize: WG2,
    body: `  let i = wg * ${WG2}u + lidx;
  if (i >= u.size) { return; }
  out[i] = ${p.dtype}(${computeTypeOf(p.dtype) === "f32" ? "" : "round"}(u.value + u.step * f32(i)));`
  }),
  uniforms: (p) => [p.size, p.value, p.step],
  workgroups: (p) => groupsFor(p.size, WG2),
  cpu(p, _inputs, [out]) {
    for (let i = 0; i < p.size; i++) out[i] = p.value + p.step * i;
  }
};

// src/shape.ts
function sizeOf(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function checkShape(shape) {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(", ")}]: dims must be non-negative integers`);
  }
}
function stridesOf(shape) {
  const strides = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
function broadcastShapes(a, b) {
  const rank = Math.max(a.length, b.length);
  const out = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
function broadcastStrides(shape, target) {
  const strides = stridesOf(shape);
  const out = new Array(target.length).fill(0);
  const offset = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[offset + i] = shape[i] === 1 ? 0 : strides[i];
  return out;
}
function shapesEqual(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
function fmt(shape) {
  return `[${shape.join(", ")}]`;
}

// src/scope.ts
var scopes = [];
function track(t) {
  scopes[scopes.length - 1]?.add(t);
}
function keep(t) {
  for (const s of scopes) s.delete(t);
  return t;
}
function tidy(fn) {
  const scope = /* @__PURE__ */ new Set();
  scopes.push(scope);
  let result;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error("tidy() takes a synchronous function: await outside it, or dispose tensors yourself");
  }
  const survivors = /* @__PURE__ */ new Set();
  collect(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) track(t);
    else t.dispose();
  }
  return result;
}
function collect(value, out) {
  if (value === null || typeof value !== "object") return;
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    for (const v of value instanceof Map ? value.values() : Object.values(value)) collect(v, out);
  }
}
function isTensor(v) {
  return v.__isTensor === true;
}

// src/kernels/reduce.ts
var ROW_WG = 64;
var ROW_MIN = 256;
var COL_WG = 64;
var NEG_INF_WGSL = "fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }";
var isArg = (op) => op === "argmax" || op === "argmin";
var reduceOutDtype = (op, dtype) => isArg(op) ? "i32" : dtype === "f16" ? "f16" : dtype;
function combine(op, t) {
  switch (op) {
    case "max":
    case "argmax":
      return { init: t === "f32" ? "neg_inf()" : t === "i32" ? "-2147483647 - 1" : "0u", step: (a, v) => `max(${a}, ${v})` };
    case "min":
    case "argmin":
      return { init: t === "f32" ? "-neg_inf()" : t === "i32" ? "2147483647" : "4294967295u", step: (a, v) => `min(${a}, ${v})` };
    default:
      return { init: `${t}(0)`, step: (a, v) => `${a} + ${v}` };
  }
}
var usesRowLayout = (p) => p.inner === 1 && p.n >= ROW_MIN;
var reduceKernel = {
  name: "reduce",
  key: (p) => `${p.op}|${p.dtype}|${usesRowLayout(p) ? "row" : "col"}`,
  shader(p) {
    const t = p.dtype === "f16" ? "f32" : p.dtype;
    const outDtype = reduceOutDtype(p.op, p.dtype);
    const { init, step } = combine(p.op, t);
    if (p.pre !== 1 && (isArg(p.op) || p.op === "logsumexp")) throw new Error(`reduce: ${p.op} over two runs of axes is not supported`);
    const uniforms = [
      { name: "pre", type: "u32" },
      { name: "outer", type: "u32" },
      { name: "n", type: "u32" },
      { name: "inner", type: "u32" }
    ];
    const io = { inputs: [{ name: "x", dtype: p.dtype }], outputs: [{ name: "out", dtype: outDtype }], uniforms };
    const finish = (acc, idx) => isArg(p.op) ? `i32(${idx})` : `${outDtype}(${acc})`;
    if (!usesRowLayout(p)) {
      const loop = p.op === "logsumexp" ? `var m = -3.4028234663852886e38;
  for (var k = 0u; k < u.n; k++) { m = max(m, f32(x[base + k * u.inner])); }
  var acc = 0.0;
  for (var k = 0u; k < u.n; k++) { acc += exp(f32(x[base + k * u.inner]) - m); }
  out[o] = ${outDtype}(select(m + log(acc), neg_inf(), m == -3.4028234663852886e38));` : isArg(p.op) ? `var acc = ${init};
  var best = 0u;
  for (var k = 0u; k < u.n; k++) {
    let v = ${t}(x[base + k * u.inner]);
    if (${p.op === "argmax" ? "v > acc" : "v < acc"} || k == 0u) { acc = v; best = k; }
  }
  out[o] = ${finish("acc", "best")};` : `var acc = ${init};
  let preStride = u.outer * u.n * u.inner;
  for (var a = 0u; a < u.pre; a++) {
    for (var k = 0u; k < u.n; k++) { acc = ${step("acc", `${t}(x[a * preStride + base + k * u.inner])`)}; }
  }
  out[o] = ${finish("acc", "0u")};`;
      return {
        ...io,
        workgroupSize: COL_WG,
        module: NEG_INF_WGSL,
        body: `  let o = wg * ${COL_WG}u + lidx;
  if (o >= u.outer * u.inner) { return; }
  let base = (o / u.inner) * u.n * u.inner + o % u.inner;
  ${loop}`
      };
    }
    const treeStep = isArg(p.op) ? `let ov = vals[lidx + s]; let oi = idxs[lidx + s];
      if (${p.op === "argmax" ? "ov > vals[lidx]" : "ov < vals[lidx]"} || (ov == vals[lidx] && oi < idxs[lidx])) { vals[lidx] = ov; idxs[lidx] = oi; }` : `vals[lidx] = ${step("vals[lidx]", "vals[lidx + s]")};`;
    const treeOf = (stepStatement) => `
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lidx < s) { ${stepStatement} }
  }
  workgroupBarrier();`;
    const tree = treeOf(treeStep);
    const accumulate = isArg(p.op) ? `var acc = ${init}; var best = 0xffffffffu;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) {
    let v = ${t}(x[base + k]);
    if (${p.op === "argmax" ? "v > acc" : "v < acc"} || best == 0xffffffffu) { acc = v; best = k; }
  }
  vals[lidx] = acc; idxs[lidx] = best;` : p.op === "logsumexp" ? `var mx = -3.4028234663852886e38;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) { mx = max(mx, f32(x[base + k])); }
  vals[lidx] = mx;${treeOf("vals[lidx] = max(vals[lidx], vals[lidx + s]);")}
  let m = vals[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var k = lidx; k < u.n; k += ${ROW_WG}u) { acc += exp(f32(x[base + k]) - m); }
  vals[lidx] = acc;` : `var acc = ${init};
  for (var a = 0u; a < u.pre; a++) {
    let row = (a * u.outer + wg) * u.n;
    for (var k = lidx; k < u.n; k += ${ROW_WG}u) { acc = ${step("acc", `${t}(x[row + k])`)}; }
  }
  vals[lidx] = acc;`;
    const result = p.op === "logsumexp" ? `${outDtype}(select(m + log(vals[0]), neg_inf(), m == -3.4028234663852886e38))` : finish("vals[0]", "idxs[0]");
    return {
      ...io,
      workgroupSize: ROW_WG,
      module: `${NEG_INF_WGSL}
var<workgroup> vals: array<${p.op === "logsumexp" ? "f32" : t}, ${ROW_WG}>;
var<workgroup> idxs: array<u32, ${ROW_WG}>;`,
      body: `  if (wg >= u.outer) { return; }
  let base = wg * u.n;
  ${accumulate}${tree}
  if (lidx == 0u) { out[wg] = ${result}; }`
    };
  },
  uniforms: (p) => [p.pre, p.outer, p.n, p.inner],
  workgroups: (p) => usesRowLayout(p) ? p.outer : groupsFor(p.outer * p.inner, COL_WG),
  cpu(p, [x], [out]) {
    for (let o = 0; o < p.outer; o++) {
      for (let i = 0; i < p.inner; i++) {
        const base2 = o * p.n * p.inner + i;
        let acc = p.op === "max" || p.op === "argmax" ? -Infinity : p.op === "min" || p.op === "argmin" ? Infinity : 0;
        let best = 0;
        if (p.op === "logsumexp") {
          let m = -Infinity;
          for (let k = 0; k < p.n; k++) m = Math.max(m, x[base2 + k * p.inner]);
          for (let k = 0; k < p.n; k++) acc += Math.exp(x[base2 + k * p.inner] - m);
          out[o * p.inner + i] = m === -Infinity ? m : m + Math.log(acc);
          continue;
        }
        for (let a = 0; a < p.pre; a++) {
          for (let k = 0; k < p.n; k++) {
            const v = x[a * p.outer * p.n * p.inner + base2 + k * p.inner];
            if (p.op === "sum") acc += v;
            else if ((p.op === "max" || p.op === "argmax") && (v > acc || a === 0 && k === 0)) [acc, best] = [v, k];
            else if ((p.op === "min" || p.op === "argmin") && (v < acc || a === 0 && k === 0)) [acc, best] = [v, k];
          }
        }
        out[o * p.inner + i] = isArg(p.op) ? best : acc;
      }
    }
  }
};

// src/ops/layout.ts
function reshape(x, shape) {
  const target = inferShape(shape, x.size, x.shape);
  const y = x.shareStorage(target);
  record(y, "reshape", [x], (g) => [reshape(g, x.shape)]);
  return y;
}
function inferShape(shape, size, from) {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown !== out.lastIndexOf(-1)) throw new ShapeError(`reshape ${fmt(from)} \u2192 ${fmt(shape)}: only one dim may be -1`);
  if (unknown >= 0) {
    const known = out.reduce((n, d, i) => i === unknown ? n : n * d, 1);
    if (known === 0 || size % known !== 0) throw new ShapeError(`cannot reshape ${fmt(from)} (${size} elements) to ${fmt(shape)}`);
    out[unknown] = size / known;
  }
  if (sizeOf(out) !== size) throw new ShapeError(`cannot reshape ${fmt(from)} (${size} elements) to ${fmt(shape)}`);
  return out;
}

// src/ops/reduce.ts
function keptShape(shape, axes) {
  return shape.map((d, i) => axes.includes(i) ? 1 : d);
}
function reduceRaw(x, op, axes) {
  if (axes.length === 0) return noGrad(() => copy(x));
  const runs = [];
  for (const a of axes) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === a - 1) run.push(a);
    else runs.push([a]);
  }
  if (runs.length > 1 && op !== "sum" && op !== "max" && op !== "min") {
    throw new Error(`${op} over non-adjacent axes is not supported; reduce them one at a time`);
  }
  if (runs.length === 2 && runs[0][0] === 0) {
    const [lead, run] = runs;
    const shape = x.shape;
    const params = {
      op,
      dtype: x.dtype,
      pre: sizeOf(shape.slice(0, lead.length)),
      outer: sizeOf(shape.slice(lead.length, run[0])),
      n: sizeOf(shape.slice(run[0], run[run.length - 1] + 1)),
      inner: sizeOf(shape.slice(run[run.length - 1] + 1))
    };
    const out = emptyTensor(x.device, keptShape(shape, axes), reduceOutDtype(op, x.dtype));
    if (out.size > 0) x.device.backend.run(reduceKernel, params, [x.storage], [out.storage]);
    return out;
  }
  let cur = x;
  for (let r = runs.length - 1; r >= 0; r--) {
    const run = runs[r];
    const shape = cur.shape;
    const outer = sizeOf(shape.slice(0, run[0]));
    const n = sizeOf(shape.slice(run[0], run[run.length - 1] + 1));
    const inner = sizeOf(shape.slice(run[run.length - 1] + 1));
    const out = emptyTensor(x.device, keptShape(shape, run), reduceOutDtype(op, x.dtype));
    if (out.size > 0) x.device.backend.run(reduceKernel, { op, dtype: cur.dtype, pre: 1, outer, n, inner }, [cur.storage], [out.storage]);
    if (cur !== x) cur.dispose();
    cur = out;
  }
  return cur;
}
function view(raw, shape) {
  const v = raw.shareStorage(shape);
  raw.dispose();
  return v;
}
function sumToShape(g, shape) {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  if (!axes.length) return reshape(g, shape);
  const summed = view(reduceRaw(g, "sum", axes), shape);
  record(summed, "sumToShape", [g], (up) => [broadcastTo(reshape(up, keptShape(g.shape, axes)), g.shape)]);
  return summed;
}

// src/ops/elementwise.ts
function formula(name, arity, wgsl, cpu) {
  return { name, arity, wgsl, cpu };
}
var isInt = (c) => c !== "f32";
var SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
function erfApprox(x) {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return Math.sign(x) * y;
}
var sigmoidOf = (x) => 1 / (1 + Math.exp(-x));
var FORMULAS = {
  identity: formula("identity", 1, ([a]) => a, ([a]) => a),
  neg: formula("neg", 1, ([a]) => `-${a}`, ([a]) => -a),
  exp: formula("exp", 1, ([a]) => `exp(${a})`, ([a]) => Math.exp(a)),
  log: formula("log", 1, ([a]) => `log(${a})`, ([a]) => Math.log(a)),
  sqrt: formula("sqrt", 1, ([a]) => `sqrt(${a})`, ([a]) => Math.sqrt(a)),
  rsqrt: formula("rsqrt", 1, ([a]) => `inverseSqrt(${a})`, ([a]) => 1 / Math.sqrt(a)),
  abs: formula("abs", 1, ([a]) => `abs(${a})`, ([a]) => Math.abs(a)),
  sign: formula("sign", 1, ([a]) => `sign(${a})`, ([a]) => Math.sign(a)),
  square: formula("square", 1, ([a]) => `${a} * ${a}`, ([a]) => a * a),
  reciprocal: formula("reciprocal", 1, ([a]) => `1.0 / ${a}`, ([a]) => 1 / a),
  sin: formula("sin", 1, ([a]) => `sin(${a})`, ([a]) => Math.sin(a)),
  cos: formula("cos", 1, ([a]) => `cos(${a})`, ([a]) => Math.cos(a)),
  relu: formula("relu", 1, ([a], c) => `max(${a}, ${c}(0))`, ([a]) => Math.max(a, 0)),
  sigmoid: formula("sigmoid", 1, ([a]) => `1.0 / (1.0 + exp(-${a}))`, ([a]) => sigmoidOf(a)),
  tanh: formula("tanh", 1, ([a]) => `safe_tanh(${a})`, ([a]) => Math.tanh(a)),
  gelu: formula(
    "gelu",
    1,
    ([a]) => `0.5 * ${a} * (1.0 + safe_tanh(${SQRT_2_OVER_PI} * (${a} + 0.044715 * ${a} * ${a} * ${a})))`,
    ([a]) => 0.5 * a * (1 + Math.tanh(SQRT_2_OVER_PI * (a + 0.044715 * a ** 3)))
  ),
  geluErf: formula("geluErf", 1, ([a]) => `0.5 * ${a} * (1.0 + erf_approx(${a} * ${Math.SQRT1_2}))`, ([a]) => 0.5 * a * (1 + erfApprox(a * Math.SQRT1_2))),
  quickGelu: formula("quickGelu", 1, ([a]) => `${a} / (1.0 + exp(-1.702 * ${a}))`, ([a]) => a * sigmoidOf(1.702 * a)),
  add: formula("add", 2, ([a, b]) => `${a} + ${b}`, ([a, b], c) => wrap(a + b, c)),
  sub: formula("sub", 2, ([a, b]) => `${a} - ${b}`, ([a, b], c) => wrap(a - b, c)),
  mul: formula("mul", 2, ([a, b]) => `${a} * ${b}`, ([a, b], c) => isInt(c) ? wrap(Math.imul(a, b), c) : a * b),
  // Integer division follows WGSL: x / 0 = x, and INT_MIN / -1 wraps to INT_MIN.
  div: formula("div", 2, ([a, b]) => `${a} / ${b}`, ([a, b], c) => isInt(c) ? b === 0 ? a : wrap(Math.trunc(a / b), c) : a / b),
  pow: formula("pow", 2, ([a, b]) => `pow_signed(${a}, ${b})`, ([a, b]) => a ** b),
  maximum: formula("maximum", 2, ([a, b]) => `max(${a}, ${b})`, ([a, b]) => Math.max(a, b)),
  minimum: formula("minimum", 2, ([a, b]) => `min(${a}, ${b})`, ([a, b]) => Math.min(a, b)),
  eq: formula("eq", 2, ([a, b]) => `select(0u, 1u, ${a} == ${b})`, ([a, b]) => +(a === b)),
  ne: formula("ne", 2, ([a, b]) => `select(0u, 1u, ${a} != ${b})`, ([a, b]) => +(a !== b)),
  lt: formula("lt", 2, ([a, b]) => `select(0u, 1u, ${a} < ${b})`, ([a, b]) => +(a < b)),
  le: formula("le", 2, ([a, b]) => `select(0u, 1u, ${a} <= ${b})`, ([a, b]) => +(a <= b)),
  gt: formula("gt", 2, ([a, b]) => `select(0u, 1u, ${a} > ${b})`, ([a, b]) => +(a > b)),
  ge: formula("ge", 2, ([a, b]) => `select(0u, 1u, ${a} >= ${b})`, ([a, b]) => +(a >= b)),
  where: formula("where", 3, ([c, a, b], t) => `select(${b}, ${a}, ${c} != ${t}(0))`, ([c, a, b]) => c !== 0 ? a : b),
  clamp: formula("clamp", 3, ([x, lo, hi]) => `clamp(${x}, ${lo}, ${hi})`, ([x, lo, hi]) => Math.min(Math.max(x, lo), hi)),
  // Backward formulas: (x or y, upstream gradient) → input gradient.
  reluBackward: formula("reluBackward", 2, ([x, g]) => `select(0.0, ${g}, ${x} > 0.0)`, ([x, g]) => x > 0 ? g : 0),
  sigmoidBackward: formula("sigmoidBackward", 2, ([y, g]) => `${g} * ${y} * (1.0 - ${y})`, ([y, g]) => g * y * (1 - y)),
  tanhBackward: formula("tanhBackward", 2, ([y, g]) => `${g} * (1.0 - ${y} * ${y})`, ([y, g]) => g * (1 - y * y)),
  geluBackward: formula(
    "geluBackward",
    2,
    ([x, g]) => `${g} * gelu_tanh_grad(${x})`,
    ([x, g]) => {
      const inner = SQRT_2_OVER_PI * (x + 0.044715 * x ** 3);
      const th = Math.tanh(inner);
      return g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x));
    }
  ),
  geluErfBackward: formula(
    "geluErfBackward",
    2,
    ([x, g]) => `${g} * (0.5 * (1.0 + erf_approx(${x} * ${Math.SQRT1_2})) + ${x} * ${1 / Math.sqrt(2 * Math.PI)} * exp(-0.5 * ${x} * ${x}))`,
    ([x, g]) => g * (0.5 * (1 + erfApprox(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI))
  ),
  quickGeluBackward: formula(
    "quickGeluBackward",
    2,
    ([x, g]) => `${g} * quick_gelu_grad(${x})`,
    ([x, g]) => {
      const s = sigmoidOf(1.702 * x);
      return g * (s + 1.702 * x * s * (1 - s));
    }
  )
};
function wrap(v, c) {
  return c === "u32" ? v >>> 0 : c === "i32" ? v | 0 : v;
}
function resultDtype(operands) {
  const t = operands.find((o) => typeof o !== "number");
  if (!t) throw new TensorStateError("an elementwise op needs at least one tensor operand");
  return t.dtype;
}
function elementwise(op, operands, opts = {}) {
  const tensors = operands.filter((o) => typeof o !== "number");
  const device2 = tensors[0].device;
  for (const t of tensors) {
    if (t.device !== device2) throw new TensorStateError("tensors from different devices cannot be combined");
  }
  let shape = [...opts.shape ?? []];
  for (const t of tensors) shape = broadcastShapes(shape, t.shape);
  if (opts.shape && shape.length !== opts.shape.length) throw new ShapeError(`cannot broadcast to ${fmt(opts.shape)}: an operand has more dims`);
  const dtype = resultDtype(operands);
  const outDtype = opts.outDtype ?? dtype;
  const compute = opts.compute ?? computeTypeOf(dtype);
  if (outDtype === "f16" && !device2.backend.supportsF16) throw new DTypeError("this adapter has no shader-f16");
  const out = emptyTensor(device2, shape, outDtype);
  if (out.size === 0) return out;
  const { dims, strides } = coalesce(shape, tensors.map((t) => broadcastStrides(t.shape, shape)));
  const params = {
    op,
    kinds: operands.map((o) => typeof o === "number" ? "s" : "t"),
    inDtypes: tensors.map((t) => t.dtype),
    compute,
    outDtype,
    shape: dims,
    strides,
    offsets: strides.map(() => 0),
    scalars: operands.filter((o) => typeof o === "number"),
    size: out.size
  };
  device2.backend.run(
    elementwiseKernel,
    params,
    tensors.map((t) => t.storage),
    [out.storage]
  );
  return out;
}
function coalesce(shape, strides) {
  const dims = [];
  const outStrides = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      dims[last] *= shape[d];
      strides.forEach((s, k) => outStrides[k][last] = s[d]);
    } else {
      dims.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (dims.length === 0) return { dims: [1], strides: strides.map(() => [1]) };
  return { dims, strides: outStrides };
}
function broadcastTo(x, shape) {
  const y = elementwise(FORMULAS.identity, [x], { shape });
  if (!shapesEqual(y.shape, shape)) throw new ShapeError(`cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  record(y, "broadcastTo", [x], (g) => [sumToShape(g, x.shape)]);
  return y;
}
function copy(x) {
  const y = elementwise(FORMULAS.identity, [x]);
  record(y, "copy", [x], (g) => [g]);
  return y;
}
function binaryGrad(name, a, b, grads) {
  const y = elementwise(FORMULAS[name], [a, b]);
  const inputs = [a, b].filter((o) => typeof o !== "number");
  record(y, name, inputs, (g) => {
    const [ga, gb] = grads(a, b, y, g);
    const out = [];
    if (typeof a !== "number") out.push(ga && sumToShape(ga, a.shape));
    if (typeof b !== "number") out.push(gb && sumToShape(gb, b.shape));
    return out;
  });
  return y;
}
var add = (a, b) => binaryGrad("add", a, b, (_a, _b, _y, g) => [g, g]);
var compare = (name) => (a, b) => elementwise(FORMULAS[name], [a, b], { outDtype: "u32" });
var eq = compare("eq");
var ne = compare("ne");
var lt = compare("lt");
var le = compare("le");
var gt = compare("gt");
var ge = compare("ge");

// src/autograd.ts
var gradEnabled = true;
function noGrad(fn) {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
function record(out, name, inputs, backward2) {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return;
  out.requiresGrad = true;
  out.node = { name, inputs, backward: backward2 };
}
var AutogradError = class extends TesseraError {
};
function backward(root, grad, opts = {}) {
  if (!root.requiresGrad) throw new AutogradError("backward() on a tensor that does not require grad: no input of its graph has requiresGrad");
  if (!grad && root.size !== 1) throw new AutogradError(`backward() without a gradient needs a one-element tensor, got ${fmt(root.shape)}`);
  if (grad && !shapesEqual(grad.shape, root.shape)) throw new AutogradError(`gradient shape ${fmt(grad.shape)} does not match ${fmt(root.shape)}`);
  const order = topologicalOrder(root);
  noGrad(
    () => tidy(() => {
      const grads = /* @__PURE__ */ new Map();
      const holders = /* @__PURE__ */ new Map();
      const hold = (t, g) => {
        grads.set(t, g);
        holders.set(g, (holders.get(g) ?? 0) + 1);
      };
      const drop = (g) => {
        const n = holders.get(g) - 1;
        holders.set(g, n);
        if (n === 0 && g !== grad) g.dispose();
      };
      hold(root, grad ?? onesLike(root));
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        if (!t.node) {
          const shared = holders.get(g) > 1 || g === grad;
          if (shared) {
            accumulateLeaf(t, copy(g));
            drop(g);
          } else {
            holders.set(g, 0);
            accumulateLeaf(t, g);
          }
          continue;
        }
        const inputGrads = t.node.backward(g);
        t.node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (!gi || !input.requiresGrad) return;
          if (!shapesEqual(gi.shape, input.shape)) {
            throw new AutogradError(`${t.node.name} backward produced ${fmt(gi.shape)} for an input of ${fmt(input.shape)}`);
          }
          const prev = grads.get(input);
          if (prev) {
            const sum = add(prev, gi);
            drop(prev);
            hold(input, sum);
          } else {
            hold(input, gi);
          }
        });
        drop(g);
      }
    })
  );
  if (!opts.retainGraph) for (const t of order) t.node = null;
}
function accumulateLeaf(t, g) {
  if (t.grad) {
    const sum = add(t.grad, g);
    t.grad.dispose();
    g.dispose();
    t.grad = keep(sum);
  } else {
    t.grad = keep(g);
  }
}
function topologicalOrder(root) {
  const order = [];
  const seen = /* @__PURE__ */ new Set();
  const stack = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop();
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) {
      if (!input.requiresGrad || seen.has(input)) continue;
      if (input.disposed) {
        throw new AutogradError(
          `backward() reached ${input.toString()} (an input of ${t.node.name}) after it was disposed: its gradient path is gone. Keep intermediates alive until backward, e.g. return them from tidy() or call backward inside the same tidy()`
        );
      }
      stack.push([input, false]);
    }
  }
  return order;
}

// src/tensor.ts
var StorageRef = class {
  constructor(storage) {
    this.storage = storage;
  }
  storage;
  refs = 1;
};
var nextId = 0;
var Tensor = class _Tensor {
  constructor(device2, shape, dtype, ref, requiresGrad = false) {
    this.device = device2;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.ref = ref;
    this.requiresGrad = requiresGrad;
    track(this);
  }
  device;
  shape;
  dtype;
  __isTensor = true;
  id = nextId++;
  size;
  requiresGrad;
  /** Accumulated gradient of a leaf that requires grad; owned by the tensor. */
  grad = null;
  /** How this tensor was computed, when autograd recorded it. */
  node = null;
  ref;
  get rank() {
    return this.shape.length;
  }
  get disposed() {
    return this.ref === null;
  }
  /** The backing storage; throws if the tensor was disposed. */
  get storage() {
    if (!this.ref) throw new TensorStateError(`tensor #${this.id} ${fmt(this.shape)} was used after dispose()`);
    return this.ref.storage;
  }
  /** A new tensor sharing this one's storage (used by reshape: no copy). */
  shareStorage(shape) {
    if (!this.ref) throw new TensorStateError(`tensor #${this.id} was used after dispose()`);
    this.ref.refs++;
    return new _Tensor(this.device, shape, this.dtype, this.ref);
  }
  async read() {
    return await this.device.backend.read(this.storage);
  }
  /** The single value of a one-element tensor. */
  async item() {
    if (this.size !== 1) throw new TensorStateError(`item() needs a one-element tensor, got ${fmt(this.shape)}`);
    return (await this.read())[0];
  }
  /** Back-propagates from this tensor (a scalar, or with an explicit upstream gradient). */
  backward(grad) {
    backward(this, grad);
  }
  /** The same data, cut from the autograd graph (no copy). */
  detach() {
    return this.shareStorage(this.shape);
  }
  /** Keeps this tensor alive past the enclosing `tidy()` scopes. */
  keep() {
    return keep(this);
  }
  dispose() {
    const ref = this.ref;
    if (!ref) return;
    this.ref = null;
    this.node = null;
    if (--ref.refs === 0) this.device.backend.release(ref.storage);
    this.grad?.dispose();
    this.grad = null;
  }
  toString() {
    return `Tensor(${this.dtype}, ${fmt(this.shape)}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }
};

// src/ops/creation.ts
function emptyTensor(device2, shape, dtype) {
  checkShape(shape);
  let size = 1;
  for (const d of shape) size *= d;
  return new Tensor(device2, [...shape], dtype, new StorageRef(device2.backend.alloc(dtype, size)));
}
function full(device2, shape, value, dtype = "f32") {
  const t = emptyTensor(device2, shape, dtype);
  device2.backend.run(fillKernel, { dtype, size: t.size, value, step: 0 }, [], [t.storage]);
  return t;
}
var onesLike = (t) => full(t.device, t.shape, 1, t.dtype);

// src/random-state.ts
var RandomGenerator = class {
  constructor(seedValue) {
    this.seedValue = seedValue;
    this.reseed(seedValue);
  }
  seedValue;
  offsetValue = 0;
  get seed() {
    return this.seedValue;
  }
  get offset() {
    return this.offsetValue;
  }
  reseed(seed) {
    this.seedValue = seed >>> 0;
    this.offsetValue = 0;
  }
  /** Reserves `count` counters; returns the first. Offsets stay exact integers up to 2^53. */
  take(count) {
    const start = this.offsetValue;
    this.offsetValue += count;
    return start;
  }
  state() {
    return { seed: this.seedValue, offset: this.offsetValue };
  }
  setState(state) {
    this.seedValue = state.seed >>> 0;
    this.offsetValue = state.offset;
  }
};

// src/device.ts
function hostArrayType(dtype) {
  return dtype === "i32" ? Int32Array : dtype === "u32" ? Uint32Array : Float32Array;
}
var Device = class _Device {
  constructor(backend2, seed) {
    this.backend = backend2;
    this.random = new RandomGenerator(seed);
  }
  backend;
  /** Counter-based random stream shared by the random ops of this device. */
  random;
  static async create(opts = {}) {
    const choice = opts.backend ?? "auto";
    if (choice === "cpu") return new _Device(new CpuBackend(), opts.seed ?? 0);
    try {
      return new _Device(await WebGpuBackend.create(opts), opts.seed ?? 0);
    } catch (err) {
      if (choice === "auto" && err instanceof AdapterError) return new _Device(new CpuBackend(), opts.seed ?? 0);
      throw err;
    }
  }
  get kind() {
    return this.backend.adapter.backend;
  }
  get adapter() {
    return this.backend.adapter;
  }
  /**
   * Largest tensor in bytes this device holds: on WebGPU what one kernel can bind
   * (maxStorageBufferBindingSize, often 128 MiB or 2 GiB); unbounded on the CPU backend. Larger
   * tensors throw DeviceLimitError, so models split big batches by it.
   */
  get maxTensorBytes() {
    return this.backend.maxTensorBytes;
  }
  /** A tensor holding a copy of `data`. */
  tensor(data, shape, opts = {}) {
    checkShape(shape);
    if (data.length !== sizeOf(shape)) throw new ShapeError(`${data.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
    const dtype = opts.dtype ?? dtypeOfArray(data);
    const t = emptyTensor(this, shape, dtype);
    const host = data instanceof hostArrayType(dtype) ? data : dtype === "i32" ? Int32Array.from(data) : dtype === "u32" ? Uint32Array.from(data) : Float32Array.from(data);
    this.backend.write(t.storage, host);
    t.requiresGrad = opts.requiresGrad ?? false;
    return t;
  }
  memory() {
    return this.backend.memory();
  }
  /** Submits recorded work without waiting for it. */
  flush() {
    this.backend.flush();
  }
  /** Waits until all submitted work has finished (for timing). */
  sync() {
    return this.backend.sync();
  }
  destroy() {
    this.backend.destroy();
  }
};

// src/kernels/conv.ts
var pixelCount = (g) => g.hout * g.wout;
var GEOMETRY_UNIFORMS = ["batch", "cin", "h", "w", "kh", "kw", "strideH", "strideW", "padH", "padW", "hout", "wout"];
function geometryUniforms(g) {
  return GEOMETRY_UNIFORMS.map((f) => g[f]);
}
var geometryUniformDecls = GEOMETRY_UNIFORMS.map((name) => ({
  name,
  type: name.startsWith("pad") ? "i32" : "u32"
}));
var GEOMETRY_UNIFORM_DECLS = geometryUniformDecls;
function im2colLoadWgsl(name, buffer) {
  return `
fn ${name}(n: u32, k: u32, pix: u32) -> f32 {
  let taps = u.kh * u.kw;
  let ci = k / taps;
  let ky = (k % taps) / u.kw;
  let kx = k % u.kw;
  let iy = i32((pix / u.wout) * u.strideH + ky) - u.padH;
  let ix = i32((pix % u.wout) * u.strideW + kx) - u.padW;
  if (iy < 0 || iy >= i32(u.h) || ix < 0 || ix >= i32(u.w)) { return 0.0; }
  return f32(${buffer}[((n * u.cin + ci) * u.h + u32(iy)) * u.w + u32(ix)]);
}`;
}
function im2colLoad4Wgsl(name, buffer) {
  const tap = (e) => `
  if (pix0 + ${e}u < u.hout * u.wout) {
    let iy = i32(oy * u.strideH + ky) - u.padH;
    let ix = i32(ox * u.strideW + kx) - u.padW;
    if (iy >= 0 && iy < i32(u.h) && ix >= 0 && ix < i32(u.w)) { v[${e}] = f32(${buffer}[(plane + u32(iy)) * u.w + u32(ix)]); }
  }
  ox += 1u;
  if (ox == u.wout) { ox = 0u; oy += 1u; }`;
  return `
fn ${name}(n: u32, k: u32, pix0: u32) -> vec4<f32> {
  let taps = u.kh * u.kw;
  let ci = k / taps;
  let ky = (k - ci * taps) / u.kw;
  let kx = k - ci * taps - ky * u.kw;
  let plane = (n * u.cin + ci) * u.h;
  var oy = pix0 / u.wout;
  var ox = pix0 - oy * u.wout;
  var v = vec4<f32>(0.0);${[0, 1, 2, 3].map(tap).join("")}
  return v;
}`;
}
function forEachPatchTap(g, visit) {
  const P = pixelCount(g);
  let i = 0;
  for (let n = 0; n < g.batch; n++)
    for (let ci = 0; ci < g.cin; ci++) {
      const plane = (n * g.cin + ci) * g.h;
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++, i += P)
          for (let oy = 0; oy < g.hout; oy++) {
            const iy = oy * g.strideH + ky - g.padH;
            if (iy < 0 || iy >= g.h) continue;
            const rowBase = (plane + iy) * g.w;
            const colBase = i + oy * g.wout;
            for (let ox = 0; ox < g.wout; ox++) {
              const ix = ox * g.strideW + kx - g.padW;
              if (ix >= 0 && ix < g.w) visit(colBase + ox, rowBase + ix);
            }
          }
    }
}
function im2colCpu(g, x, col) {
  col.fill(0);
  forEachPatchTap(g, (c, xi) => {
    col[c] = x[xi];
  });
}

// src/kernels/matmul.ts
var gridColumns = (p) => p.foldBatch ? p.batch * p.n : p.n;
var gridBatches = (p) => p.foldBatch ? 1 : p.batch;
function forColumnWgsl(p, global, then) {
  return p.foldBatch ? `{ let foldedCol = ${global}; let z = foldedCol / u.n; if (z < u.batch) { let col = foldedCol - z * u.n; ${then} } }` : `{ let col = ${global}; if (col < u.n) { ${then} } }`;
}
var ACTIVATION_WGSL = {
  none: (x) => x,
  relu: (x) => `max(${x}, 0.0)`,
  gelu: (x) => `0.5 * ${x} * (1.0 + tanh_safe(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x})))`,
  quickGelu: (x) => `${x} / (1.0 + exp(-1.702 * ${x}))`
};
function activationCpu(act, x) {
  switch (act) {
    case "relu":
      return Math.max(x, 0);
    case "gelu":
      return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case "quickGelu":
      return x / (1 + Math.exp(-1.702 * x));
    default:
      return x;
  }
}
function bIsBatched(p) {
  return !!p.im2col || p.bBatchStride !== 0;
}
function denseCopy(src, batches, batchStride, rows, cols, transposed) {
  const out = new Float32Array(batches * rows * cols);
  for (let z = 0; z < batches; z++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[(z * rows + r) * cols + c] = src[z * batchStride + (transposed ? c * rows + r : r * cols + c)];
  return out;
}
function denseBCpu(p, b) {
  if (!p.im2col) return denseCopy(b, bIsBatched(p) ? p.batch : 1, p.bBatchStride, p.k, p.n, p.transB);
  const out = new Float32Array(p.batch * p.k * p.n);
  im2colCpu(p.im2col, b, out);
  return out;
}
function matmulCpu(p, a, b, bias, out) {
  const { m, n, k } = p;
  const aDense = p.transA ? denseCopy(a, p.aBatchStride !== 0 ? p.batch : 1, p.aBatchStride, m, k, true) : a;
  const aStride = p.transA ? p.aBatchStride !== 0 ? m * k : 0 : p.aBatchStride;
  const bDense = p.transB || p.im2col ? denseBCpu(p, b) : b;
  const bStride = p.transB || p.im2col ? bIsBatched(p) ? k * n : 0 : p.bBatchStride;
  const epilogue = p.activation === "none" && p.bias === "none" ? null : (sum, i, j) => activationCpu(p.activation, sum + (bias ? bias[p.bias === "row" ? i : j] : 0));
  for (let z = 0; z < p.batch; z++) denseMatmulCpu(m, n, k, aDense, z * aStride, bDense, z * bStride, out, z * m * n, epilogue);
}
function denseMatmulCpu(m, n, k, a, aOff, b, bOff, out, outOff, epilogue) {
  const store = (i, j, sum) => {
    out[outOff + i * n + j] = epilogue ? epilogue(sum, i, j) : sum;
  };
  const m4 = m - m % 4;
  const n4 = n - n % 4;
  for (let i0 = 0; i0 < m4; i0 += 4) {
    const r0 = aOff + i0 * k;
    const r1 = r0 + k;
    const r2 = r1 + k;
    const r3 = r2 + k;
    for (let j0 = 0; j0 < n4; j0 += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let kk = 0, bi = bOff + j0; kk < k; kk++, bi += n) {
        const b0 = b[bi], b1 = b[bi + 1], b2 = b[bi + 2], b3 = b[bi + 3];
        const a0 = a[r0 + kk], a1 = a[r1 + kk], a2 = a[r2 + kk], a3 = a[r3 + kk];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      store(i0, j0, c00), store(i0, j0 + 1, c01), store(i0, j0 + 2, c02), store(i0, j0 + 3, c03);
      store(i0 + 1, j0, c10), store(i0 + 1, j0 + 1, c11), store(i0 + 1, j0 + 2, c12), store(i0 + 1, j0 + 3, c13);
      store(i0 + 2, j0, c20), store(i0 + 2, j0 + 1, c21), store(i0 + 2, j0 + 2, c22), store(i0 + 2, j0 + 3, c23);
      store(i0 + 3, j0, c30), store(i0 + 3, j0 + 1, c31), store(i0 + 3, j0 + 2, c32), store(i0 + 3, j0 + 3, c33);
    }
  }
  const dot = (i, j) => {
    let sum = 0;
    for (let kk = 0, ai = aOff + i * k, bi = bOff + j; kk < k; kk++, bi += n) sum += a[ai + kk] * b[bi];
    store(i, j, sum);
  };
  for (let i = 0; i < m4; i++) for (let j = n4; j < n; j++) dot(i, j);
  for (let i = m4; i < m; i++) for (let j = 0; j < n; j++) dot(i, j);
}
function matmulKey(p) {
  return `${p.dtype}|${+p.transA}${+p.transB}|${p.bias}|${p.activation}|${p.im2col ? "im2col" : "mat"}${p.foldBatch ? "|fold" : ""}`;
}
function matmulUniformDecls(p) {
  return [
    { name: "m", type: "u32" },
    { name: "n", type: "u32" },
    { name: "k", type: "u32" },
    { name: "aBatch", type: "u32" },
    { name: "bBatch", type: "u32" },
    ...p.im2col ? GEOMETRY_UNIFORM_DECLS : [],
    // A folded launch bounds its columns by the batch (the conv geometry already carries it).
    ...p.foldBatch && !p.im2col ? [{ name: "batch", type: "u32" }] : []
  ];
}
function matmulUniforms(p) {
  return [p.m, p.n, p.k, p.aBatchStride, p.bBatchStride, ...p.im2col ? geometryUniforms(p.im2col) : [], ...p.foldBatch && !p.im2col ? [p.batch] : []];
}
function loadBWgsl(p) {
  if (p.im2col) return `${im2colLoadWgsl("imagePatch", "b")}
fn loadB(z: u32, kk: u32, col: u32) -> f32 { return imagePatch(z, kk, col); }`;
  return `fn loadB(z: u32, kk: u32, col: u32) -> f32 { return f32(b[z * u.bBatch + ${p.transB ? "col * u.k + kk" : "kk * u.n + col"}]); }`;
}
function loadB4Wgsl(p) {
  if (p.im2col) return `${im2colLoad4Wgsl("imagePatch4", "b")}
fn loadB4(z: u32, kk: u32, col0: u32) -> vec4<f32> { return imagePatch4(z, kk, col0); }`;
  const lane = (e) => `select(0.0, loadB(z, kk, min(col0 + ${e}u, u.n - 1u)), col0 + ${e}u < u.n)`;
  return `${loadBWgsl(p)}
fn loadB4(z: u32, kk: u32, col0: u32) -> vec4<f32> { return vec4<f32>(${[0, 1, 2, 3].map(lane).join(", ")}); }`;
}
var EPILOGUE_WGSL = "fn tanh_safe(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }";
function matmulStoreWgsl(p, v, row, col) {
  const biased = p.bias === "none" ? v : `${v} + f32(bias[${p.bias === "row" ? row : col}])`;
  return `c[z * u.m * u.n + ${row} * u.n + ${col}] = ${p.dtype}(${ACTIVATION_WGSL[p.activation](`(${biased})`)});`;
}
function matmulBindings(p, b) {
  return {
    inputs: [{ name: "a", dtype: p.dtype }, b, ...p.bias !== "none" ? [{ name: "bias", dtype: p.dtype }] : []],
    outputs: [{ name: "c", dtype: p.dtype }]
  };
}
function tiledMatmulKernel(t) {
  const tileM = t.threadsM * t.threadM;
  const tileN = t.threadsN * t.threadN;
  const threads = t.threadsM * t.threadsN;
  return {
    name: `matmul.tiled.${t.threadsN}x${t.threadsM}.${t.threadM}x${t.threadN}.k${t.tileK}`,
    key: matmulKey,
    shader(p) {
      const aIndex = p.transA ? "ab + kk * u.m + row" : "ab + row * u.k + kk";
      return {
        ...matmulBindings(p, { name: "b", dtype: p.dtype }),
        uniforms: matmulUniformDecls(p),
        workgroupSize: [t.threadsN, t.threadsM, 1],
        module: `${loadBWgsl(p)}
${EPILOGUE_WGSL}
var<workgroup> tileA: array<array<f32, ${tileM}>, ${t.tileK}>;
var<workgroup> tileB: array<array<f32, ${tileN}>, ${t.tileK}>;`,
        body: `
  let z = wid.z;
  let tileRow = wid.y * ${tileM}u;
  let tileCol = wid.x * ${tileN}u;
  let ab = z * u.aBatch;
  var acc: array<array<f32, ${t.threadN}>, ${t.threadM}>;
  for (var k0 = 0u; k0 < u.k; k0 += ${t.tileK}u) {
    for (var l = lidx; l < ${t.tileK * tileM}u; l += ${threads}u) {
      let kk = k0 + l / ${tileM}u;
      let row = tileRow + l % ${tileM}u;
      tileA[l / ${tileM}u][l % ${tileM}u] = select(0.0, f32(a[${aIndex}]), kk < u.k && row < u.m);
    }
    for (var l = lidx; l < ${t.tileK * tileN}u; l += ${threads}u) {
      let kk = k0 + l / ${tileN}u;
      var v = 0.0;
      if (kk < u.k) ${forColumnWgsl(p, `tileCol + l % ${tileN}u`, "v = loadB(z, kk, col);")}
      tileB[l / ${tileN}u][l % ${tileN}u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.tileK}u; kk++) {
      var av: array<f32, ${t.threadM}>;
      var bv: array<f32, ${t.threadN}>;
      for (var i = 0u; i < ${t.threadM}u; i++) { av[i] = tileA[kk][lid.y * ${t.threadM}u + i]; }
      for (var j = 0u; j < ${t.threadN}u; j++) { bv[j] = tileB[kk][lid.x * ${t.threadN}u + j]; }
      for (var i = 0u; i < ${t.threadM}u; i++) { for (var j = 0u; j < ${t.threadN}u; j++) { acc[i][j] += av[i] * bv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${t.threadM}u; i++) {
    let row = tileRow + lid.y * ${t.threadM}u + i;
    if (row >= u.m) { continue; }
    for (var j = 0u; j < ${t.threadN}u; j++) {
      ${forColumnWgsl(p, `tileCol + lid.x * ${t.threadN}u + j`, matmulStoreWgsl(p, "acc[i][j]", "row", "col"))}
    }
  }`
      };
    },
    uniforms: matmulUniforms,
    workgroups: (p) => [Math.ceil(gridColumns(p) / tileN), Math.ceil(p.m / tileM), gridBatches(p)],
    cpu(p, [a, b, bias], [out]) {
      matmulCpu(p, a, b, p.bias !== "none" ? bias : void 0, out);
    }
  };
}

// src/kernels/matmul-packed.ts
var packsPerBatch = (p) => bIsBatched(p) && !p.foldBatch;
function packedLayout(p) {
  const width = Math.max(1, Math.ceil(gridColumns(p) / 4));
  const rows = Math.max(1, (packsPerBatch(p) ? p.batch : 1) * p.k);
  return { width, rows, panelRows: p.panelRows, panels: Math.ceil(rows / p.panelRows) };
}
function packedImageSize(p) {
  const l = packedLayout(p);
  return { width: l.width * l.panels, height: l.panelRows };
}
var MAX_GROUPS = 65535;
var PACK_WG = 64;
var layoutUniformDecls = [
  { name: "width", type: "u32" },
  { name: "packedRows", type: "u32" },
  { name: "panelRows", type: "u32" },
  { name: "imageWidth", type: "u32" }
];
function layoutUniforms(p) {
  const l = packedLayout(p);
  return [l.width, l.rows, l.panelRows, l.width * l.panels];
}
function texelOffset(l, y, x) {
  return (y % l.panelRows * l.width * l.panels + Math.floor(y / l.panelRows) * l.width + x) * 4;
}
function forEachPackedElement(p, visit) {
  const l = packedLayout(p);
  const at = (y, col) => texelOffset(l, y, col >> 2) + (col & 3);
  for (let y = 0; y < l.rows; y++)
    for (let col = 0; col < p.n; col++)
      if (p.foldBatch) for (let z = 0; z < p.batch; z++) visit((z * p.k + y) * p.n + col, at(y, z * p.n + col));
      else visit(y * p.n + col, at(y, col));
}
function packBKernel(target) {
  return {
    name: `matmul.packB.${target}`,
    key: (p) => `${p.dtype}|${+p.transB}|${p.im2col ? "im2col" : "mat"}${p.foldBatch ? "|fold" : ""}`,
    shader: (p) => ({
      inputs: [{ name: "b", dtype: p.dtype }],
      outputs: [target === "texture" ? { name: "bt", dtype: "f32", texture: true } : { name: "bt", dtype: "f32", vec4: true }],
      uniforms: [...matmulUniformDecls(p), ...layoutUniformDecls],
      workgroupSize: PACK_WG,
      module: loadB4Wgsl(p),
      // One workgroup row per packed row: y, z and kk are uniform, so their divisions are scalar.
      body: `
  let x = wid.x * ${PACK_WG}u + lidx;
  let y = wid.y + wid.z * ${MAX_GROUPS}u;
  if (x >= u.width || y >= u.packedRows) { return; }
  ${p.foldBatch ? `// Folded: row y is patch row y of every batch side by side; a texel's 4 columns share a batch.
  let z = (x * 4u) / u.n;
  var v = vec4<f32>(0.0);
  if (z < u.batch) { v = loadB4(z, y, x * 4u - z * u.n); }` : `let z = y / u.k;
  let v = loadB4(z, y - z * u.k, x * 4u);`}
  let panel = y / u.panelRows;
  let tx = panel * u.width + x;
  let ty = y - panel * u.panelRows;
  ${target === "texture" ? "textureStore(bt, vec2<i32>(i32(tx), i32(ty)), v);" : "bt[ty * u.imageWidth + tx] = v;"}`
    }),
    uniforms: (p) => [...matmulUniforms(p), ...layoutUniforms(p)],
    workgroups: (p) => {
      const { width, rows } = packedLayout(p);
      return [Math.ceil(width / PACK_WG), Math.min(rows, MAX_GROUPS), Math.ceil(rows / MAX_GROUPS)];
    },
    cpu(p, [b], [bt]) {
      const dense = denseBCpu(p, b);
      forEachPackedElement(p, (d, t) => bt[t] = dense[d]);
    }
  };
}
function readsAByVec4(p) {
  return !p.transA && p.k % 4 === 0;
}
function packedMatmulKernel(t) {
  const R = t.rows;
  const C = t.texels;
  const range = (n) => Array.from({ length: n }, (_, i) => i);
  const lines = (n, f) => range(n).map(f).join("\n");
  return {
    name: `matmul.packed.${t.packedIn}.${R}x${C}.t${t.threads}`,
    key: (p) => `${matmulKey(p)}|${+readsAByVec4(p)}`,
    shader(p) {
      const a4 = readsAByVec4(p);
      const loadB = (c) => t.packedIn === "texture" ? `textureLoad(bt, vec2<i32>(i32(px + ${c}u), i32(py)), 0)` : `bt[py * u.imageWidth + px + ${c}u]`;
      const step = (aOf) => `    {
      let px = pcol + tx;
${lines(C, (c) => `      let b${c} = ${loadB(c)};`)}
${range(R).flatMap((r) => range(C).map((c) => `      acc${r}_${c} += ${aOf(r)} * b${c};`)).join("\n")}
      py += 1u;
      if (py == u.panelRows) { py = 0u; pcol += u.width; }
    }`;
      const rowOf = (r) => `min(row0 + ${r}u, u.m - 1u)`;
      const loop = a4 ? `${lines(R, (r) => `  let aRow${r} = (ab + ${rowOf(r)} * u.k) / 4u;`)}
  for (var k4 = 0u; k4 < u.k / 4u; k4++) {
${lines(R, (r) => `    let a${r} = vec4<f32>(a[aRow${r} + k4]);`)}
${lines(4, (j) => step((r) => `a${r}[${j}]`))}
  }` : `${lines(R, (r) => `  let aRow${r} = ab + ${rowOf(r)}${p.transA ? "" : " * u.k"};`)}
  for (var kk = 0u; kk < u.k; kk++) {
${lines(R, (r) => `    let a${r} = f32(a[aRow${r} + kk${p.transA ? " * u.m" : ""}]);`)}
${step((r) => `a${r}`)}
  }`;
      const store = (r, c, e) => `    ${forColumnWgsl(p, `(tx + ${c}u) * 4u + ${e}u`, matmulStoreWgsl(p, `acc${r}_${c}[${e}]`, "row", "col"))}`;
      const stores = range(R).flatMap((r) => [
        `  if (row0 + ${r}u < u.m) {`,
        `    let row = row0 + ${r}u;`,
        ...range(C).flatMap((c) => range(4).map((e) => store(r, c, e))),
        "  }"
      ]);
      const bindings = matmulBindings(p, t.packedIn === "texture" ? { name: "bt", dtype: "f32", texture: true } : { name: "bt", dtype: "f32", vec4: true });
      if (a4) bindings.inputs[0] = { ...bindings.inputs[0], vec4: true };
      return {
        ...bindings,
        uniforms: [...matmulUniformDecls(p), ...layoutUniformDecls, { name: "packedRowsPerBatch", type: "u32" }],
        workgroupSize: t.threads,
        module: EPILOGUE_WGSL,
        body: `
  let z = wid.z;
  let row0 = wid.y * ${R}u;
  let tx = (wid.x * ${t.threads}u + lidx) * ${C}u;
  let ab = z * u.aBatch;
  let y0 = z * u.packedRowsPerBatch;
  var py = y0 % u.panelRows;
  var pcol = (y0 / u.panelRows) * u.width;
${lines(R * C, (i) => `  var acc${Math.floor(i / C)}_${i % C} = vec4<f32>(0.0);`)}
${loop}
${stores.join("\n")}`
      };
    },
    uniforms: (p) => [...matmulUniforms(p), ...layoutUniforms(p), packsPerBatch(p) ? p.k : 0],
    workgroups: (p) => [Math.ceil(Math.ceil(gridColumns(p) / 4) / (t.threads * C)), Math.ceil(p.m / R), gridBatches(p)],
    cpu(p, [a, bt, bias], [out]) {
      const dense = new Float32Array((bIsBatched(p) ? p.batch : 1) * p.k * p.n);
      forEachPackedElement(p, (d, t2) => dense[d] = bt[t2]);
      const unpacked = { ...p, im2col: void 0, transB: false, bBatchStride: bIsBatched(p) ? p.k * p.n : 0 };
      matmulCpu(unpacked, a, dense, p.bias !== "none" ? bias : void 0, out);
    }
  };
}

// src/ops/matmul-select.ts
function tiledVariant(name, shape) {
  const kernel = tiledMatmulKernel(shape);
  return {
    name,
    fits: () => true,
    run: (backend2, p, a, b, bias, out) => backend2.run(kernel, p, [a, b, ...bias ? [bias] : []], [out])
  };
}
function packedVariant(name, shape, maxPanelRows = Infinity) {
  const pack = packBKernel(shape.packedIn);
  const kernel = packedMatmulKernel(shape);
  const paramsFor = (backend2, p) => {
    const { rows } = packedLayout({ ...p, panelRows: 1 });
    const limit = shape.packedIn === "texture" ? backend2.maxTextureDimension2D : Infinity;
    return { ...p, panelRows: Math.min(rows, limit, maxPanelRows) };
  };
  return {
    name,
    fits(backend2, p) {
      const { width, height } = packedImageSize(paramsFor(backend2, p));
      return shape.packedIn === "buffer" || width <= backend2.maxTextureDimension2D && height <= backend2.maxTextureDimension2D;
    },
    run(backend2, p, a, b, bias, out) {
      const q = paramsFor(backend2, p);
      const { width, height } = packedImageSize(q);
      const packed = shape.packedIn === "texture" ? backend2.allocTexture(width, height) : backend2.alloc("f32", width * height * 4);
      backend2.run(pack, q, [b], [packed]);
      backend2.run(kernel, q, [a, packed, ...bias ? [bias] : []], [out]);
      backend2.release(packed);
    }
  };
}
var MATMUL_VARIANTS = {
  "tiled.32x32": tiledVariant("tiled.32x32", { threadsN: 8, threadsM: 8, threadM: 4, threadN: 4, tileK: 16 }),
  "tiled.64x64": tiledVariant("tiled.64x64", { threadsN: 16, threadsM: 16, threadM: 4, threadN: 4, tileK: 8 }),
  "texture.8x16": packedVariant("texture.8x16", { rows: 8, texels: 4, threads: 64, packedIn: "texture" }),
  "vec4.8x16": packedVariant("vec4.8x16", { rows: 8, texels: 4, threads: 64, packedIn: "buffer" })
};
var PACKED_MIN_MACS = 64 ** 3;

// bench/narrow.tmp.ts
var base = { dtype: "f32", transA: false, transB: false, bias: "none", activation: "none", aBatchStride: 0, bBatchStride: 0, batch: 1 };
var variants = {
  ...MATMUL_VARIANTS,
  "texture.8x16.t8": packedVariant("texture.8x16.t8", { rows: 8, texels: 4, threads: 8, packedIn: "texture" }),
  "texture.8x16.t16": packedVariant("texture.8x16.t16", { rows: 8, texels: 4, threads: 16, packedIn: "texture" }),
  "texture.8x8.t16": packedVariant("texture.8x8.t16", { rows: 8, texels: 2, threads: 16, packedIn: "texture" }),
  "texture.8x8.t8": packedVariant("texture.8x8.t8", { rows: 8, texels: 2, threads: 8, packedIn: "texture" }),
  "texture.8x16.t32": packedVariant("texture.8x16.t32", { rows: 8, texels: 4, threads: 32, packedIn: "texture" })
};
var SHAPES = [
  ["fwd x\xB7W\u1D40 2560\xD7128\xD7512", { ...base, m: 2560, n: 128, k: 512, transB: true }],
  ["dX dY\xB7W 2560\xD7128\xD7384", { ...base, m: 2560, n: 128, k: 384 }],
  ["dW dY\u1D40\xB7X 512\xD7128\xD72560", { ...base, m: 512, n: 128, k: 2560, transA: true }],
  ["dW dY\u1D40\xB7X 128\xD7512\xD72560", { ...base, m: 128, n: 512, k: 2560, transA: true }],
  ["fwd 2560\xD7512\xD7128", { ...base, m: 2560, n: 512, k: 128, transB: true }]
];
var random = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * 0.5);
var device = await Device.create({ backend: "webgpu" });
var backend = device.backend;
var upload = (d) => {
  const s = backend.alloc("f32", d.length);
  backend.write(s, d);
  return s;
};
for (const [label, p] of SHAPES) {
  const a = random(p.m * p.k, 1), b = random(p.k * p.n, 2);
  const want = new Float32Array(p.m * p.n);
  matmulCpu(p, a, b, void 0, want);
  const A = upload(a), B = upload(b);
  const row = [];
  for (const [name, v] of Object.entries(variants)) {
    if (!v.fits(backend, p)) continue;
    const out = backend.alloc("f32", p.m * p.n);
    v.run(backend, p, A, B, void 0, out);
    const got = await backend.read(out);
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    const reps = 8;
    const t = performance.now();
    for (let r = 0; r < reps; r++) v.run(backend, p, A, B, void 0, out);
    await backend.read(out);
    const ms = (performance.now() - t) / reps;
    row.push(`${name} ${(2 * p.m * p.n * p.k / ms / 1e6).toFixed(1)} GF/s${err > 1e-3 ? " ERR " + err : ""}`);
    backend.release(out);
  }
  console.log(label + ": " + row.join(" | "));
}
//# sourceMappingURL=narrow.tmp.js.map