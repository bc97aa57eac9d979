/**
 * @tensorflow/tfjs-backend-wasm peer in Node. Node has no cross-origin isolation, so the
 * backend runs its SIMD build on one thread.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import { CONV, MATMULS, processCpuMs, timeIt } from './workloads.mjs'

export async function runTfjs() {
  await tf.setBackend('wasm')
  await tf.ready()
  const time = (fn) =>
    timeIt(
      async () => {
        const y = fn()
        await y.data()
        y.dispose()
      },
      { cpuClock: processCpuMs },
    )
  const matmul = []
  for (const mm of MATMULS) {
    const a = tf.randomUniform([mm.m, mm.k])
    const b = tf.randomUniform([mm.k, mm.n])
    matmul.push(await time(() => tf.matMul(a, b)))
    a.dispose()
    b.dispose()
  }
  // tfjs convolves NHWC with an HWIO filter: same FLOPs as the NCHW problem.
  const x = tf.randomUniform([CONV.batch, CONV.h, CONV.w, CONV.cin])
  const w = tf.randomUniform([CONV.kernel, CONV.kernel, CONV.cin, CONV.cout])
  const conv = await time(() => tf.conv2d(x, w, 1, 'same'))
  return { version: tf.version_core, backend: tf.getBackend(), threads: 1, matmul, conv }
}
