/**
 * onnxruntime-web's WebGPU execution provider in Node, on navigator.gpu (Tessera's Dawn GPU
 * object, gpu-env.mjs). Each workload is a one-node ONNX model built in-process
 * (onnx-model.mjs). Inputs live in GPU buffers on ORT's device (Tensor.fromGpuBuffer) and
 * outputs stay there (preferredOutputLocation 'gpu-buffer') until the last one of a run is
 * read back, as Tessera's and tfjs's tensors do; CPU fallback is disabled, so a node the EP
 * cannot take fails session creation instead of quietly timing the CPU.
 */
import { checkPeer } from './check.mjs'
import { convModel, matmulModel } from './onnx-model.mjs'
import { CONVS, MATMULS, enqueueThenRead, fill, timeIt, workerCpuMs } from './workloads.mjs'

export async function runOrt() {
  if (!globalThis.navigator?.gpu) throw new Error('navigator.gpu is not set: call shareDawnGpu() first')
  const ort = await import('onnxruntime-web/webgpu')
  // One wasm thread: its CPU-side work stays on the main thread, as tfjs-wasm's does; the
  // kernels run on the adapter's workers either way.
  ort.env.wasm.numThreads = 1
  const options = {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
    extra: { session: { disable_cpu_ep_fallback: '1' } },
  }
  const cpuClock = workerCpuMs() !== null ? workerCpuMs : undefined
  const sessions = []
  const session = async (bytes) => {
    const s = await ort.InferenceSession.create(bytes, options)
    sessions.push(s)
    return s
  }
  const gpuBuffers = []
  const gpuTensor = (data, dims) => {
    const device = ort.env.webgpu.device
    const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST })
    device.queue.writeBuffer(buffer, 0, data)
    gpuBuffers.push(buffer)
    return ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims })
  }
  const runOnce = async (s, feeds) => {
    const { Y } = await s.run(feeds)
    try {
      return await Y.getData()
    } finally {
      Y.dispose()
    }
  }
  const time = (s, feeds) => {
    const { step, sync } = enqueueThenRead(
      async () => (await s.run(feeds)).Y,
      (y) => y.getData(),
      (y) => y.dispose(),
    )
    return timeIt(step, { sync, cpuClock })
  }
  try {
    await checkPeer('ort-webgpu', {
      // The first session creates ORT's device; CPU tensors in, then GPU buffers for the timing.
      matmul: async (a, b, mm) => runOnce(await session(matmulModel(mm)), { A: new ort.Tensor('float32', a, [mm.m, mm.k]), B: new ort.Tensor('float32', b, [mm.k, mm.n]) }),
      conv: async (x, w, c) =>
        runOnce(await session(convModel(c)), {
          X: new ort.Tensor('float32', x, [c.batch, c.cin, c.h, c.w]),
          W: new ort.Tensor('float32', w, [c.cout, c.cin, c.kernel, c.kernel]),
        }),
    })
    const matmul = []
    for (const mm of MATMULS) {
      const s = await session(matmulModel(mm))
      matmul.push(await time(s, { A: gpuTensor(fill(mm.m * mm.k), [mm.m, mm.k]), B: gpuTensor(fill(mm.k * mm.n), [mm.k, mm.n]) }))
    }
    const conv = []
    for (const c of CONVS) {
      const s = await session(convModel(c))
      conv.push(await time(s, { X: gpuTensor(fill(c.batch * c.cin * c.h * c.w), [c.batch, c.cin, c.h, c.w]), W: gpuTensor(fill(c.cout * c.cin * c.kernel ** 2), [c.cout, c.cin, c.kernel, c.kernel]) }))
    }
    return { version: ort.env.versions.web, ep: 'webgpu', adapter: ort.env.webgpu.device?.adapterInfo?.description, matmul, conv }
  } finally {
    for (const s of sessions) await s.release()
    gpuBuffers.forEach((b) => b.destroy())
  }
}
