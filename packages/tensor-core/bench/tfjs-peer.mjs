/**
 * TensorFlow.js peers in Node, one tfjs-core with two backends:
 * - `wasm` (@tensorflow/tfjs-backend-wasm): Node has no cross-origin isolation, so it runs
 *   its SIMD build on one thread.
 * - `webgpu` (@tensorflow/tfjs-backend-webgpu): on navigator.gpu, which the bench points at
 *   Tessera's Dawn GPU object (gpu-env.mjs), so it requests the same adapter. The backend
 *   registers itself at import only where navigator.gpu exists, hence the late import.
 * tfjs convolves NHWC with an HWIO filter: the same FLOPs as the NCHW problem; the check
 * transposes in and out so the CPU reference compares like with like.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import { checkPeer } from './check.mjs'
import { CONVS, MATMULS, enqueueThenRead, fill, processCpuMs, timeIt, workerCpuMs } from './workloads.mjs'

export async function runTfjs(backend = 'wasm') {
  if (backend === 'webgpu') {
    if (!globalThis.navigator?.gpu) throw new Error('navigator.gpu is not set: call shareDawnGpu() first')
    await import('@tensorflow/tfjs-backend-webgpu')
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`)
  await tf.ready()
  // The wasm backend computes on the main thread; the webgpu one on the adapter's workers.
  const cpuClock = backend === 'wasm' ? processCpuMs : workerCpuMs() !== null ? workerCpuMs : undefined
  const time = (enqueue) => {
    const { step, sync } = enqueueThenRead(enqueue, (y) => y.data(), (y) => y.dispose())
    return timeIt(step, { sync, cpuClock })
  }
  const readOnce = async (op) => {
    const y = op()
    try {
      return await y.data()
    } finally {
      y.dispose()
    }
  }
  await checkPeer(`tfjs-${backend}`, {
    matmul: (a, b, mm) => readOnce(() => tf.tidy(() => tf.matMul(tf.tensor2d(a, [mm.m, mm.k]), tf.tensor2d(b, [mm.k, mm.n])))),
    conv: (x, w, c) =>
      readOnce(() =>
        tf.tidy(() => {
          const xs = tf.transpose(tf.tensor4d(x, [c.batch, c.cin, c.h, c.w]), [0, 2, 3, 1])
          const ws = tf.transpose(tf.tensor4d(w, [c.cout, c.cin, c.kernel, c.kernel]), [2, 3, 1, 0])
          return tf.transpose(tf.conv2d(xs, ws, 1, c.padding), [0, 3, 1, 2])
        }),
      ),
  })
  const matmul = []
  for (const mm of MATMULS) {
    const a = tf.tensor2d(fill(mm.m * mm.k), [mm.m, mm.k])
    const b = tf.tensor2d(fill(mm.k * mm.n), [mm.k, mm.n])
    matmul.push(await time(() => tf.matMul(a, b)))
    a.dispose()
    b.dispose()
  }
  const conv = []
  for (const c of CONVS) {
    const x = tf.tensor4d(fill(c.batch * c.h * c.w * c.cin), [c.batch, c.h, c.w, c.cin])
    const w = tf.tensor4d(fill(c.kernel ** 2 * c.cin * c.cout), [c.kernel, c.kernel, c.cin, c.cout])
    conv.push(await time(() => tf.conv2d(x, w, 1, c.padding)))
    x.dispose()
    w.dispose()
  }
  const adapter = backend === 'webgpu' ? tf.backend().device.adapterInfo : undefined
  return {
    version: tf.version_core,
    backend: tf.getBackend(),
    threads: backend === 'wasm' ? 1 : undefined,
    adapter: adapter?.description,
    matmul,
    conv,
  }
}
