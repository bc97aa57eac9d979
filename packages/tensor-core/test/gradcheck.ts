import { Device, noGrad, ops, tidy, type Tensor } from '../src/index.js'
import { cpuDevice, expectClose, gpuDevice, randomArray } from './helpers.js'

/** A differentiable input of a gradient check: its shape and (optionally) its values. */
export interface GradInput {
  shape: number[]
  /** Defaults to uniform values in [-1, 1) from `seed`. */
  data?: Float32Array
  seed?: number
}

/** Builds the op under test from tensors made from the inputs (in order) on device `d`. */
export type GradBuild = (xs: Tensor[], d: Device) => Tensor

export interface GradcheckOptions {
  eps?: number
  rtol?: number
  atol?: number
}

const valuesOf = (input: GradInput, k: number) => input.data ?? randomArray(input.shape.reduce((a, b) => a * b, 1), input.seed ?? 100 + k)

/** Fixed weights w so that loss = Σ y ⊙ w exercises every output element differently. */
const weightsFor = (size: number) => randomArray(size, 7, -1, 1)

/** Analytic gradients of Σ y ⊙ w on device `d`, one per input, as host arrays. */
async function analyticGrads(d: Device, inputs: GradInput[], build: GradBuild): Promise<{ grads: Float32Array[]; outShape: readonly number[] }> {
  const xs = inputs.map((input, k) => d.tensor(valuesOf(input, k), input.shape, { requiresGrad: true }))
  const outShape = tidy(() => {
    const y = build(xs, d)
    const w = d.tensor(weightsFor(y.size), y.shape)
    ops.sum(ops.mul(y, w)).backward()
    return y.shape
  })
  const grads = await Promise.all(xs.map(async (x) => (x.grad ? ((await x.grad.read()) as Float32Array) : new Float32Array(x.size))))
  xs.forEach((x) => x.dispose())
  return { grads, outShape }
}

/** Σ y ⊙ w in float64 from read-back values, with no tape. */
async function lossAt(d: Device, values: Float32Array[], inputs: GradInput[], build: GradBuild): Promise<number> {
  const y = noGrad(() => tidy(() => build(values.map((v, k) => d.tensor(v, inputs[k]!.shape)), d)))
  const out = await y.read()
  y.dispose()
  const w = weightsFor(out.length)
  let loss = 0
  for (let i = 0; i < out.length; i++) loss += out[i]! * w[i]!
  return loss
}

/**
 * Finite-difference check of autograd on the CPU backend: each input element is moved by
 * ±eps, loss = Σ y ⊙ w (fixed random w) is evaluated in float64 from read-back f32 values,
 * and the central difference is compared with the tape's gradient.
 */
export async function gradcheck(inputs: GradInput[], build: GradBuild, opts: GradcheckOptions = {}): Promise<void> {
  const { eps = 1e-2, rtol = 1e-2, atol = 2e-3 } = opts
  const d = await cpuDevice()
  const { grads } = await analyticGrads(d, inputs, build)
  const values = inputs.map((input, k) => Float32Array.from(valuesOf(input, k)))
  for (let k = 0; k < inputs.length; k++) {
    const numeric = new Float64Array(values[k]!.length)
    for (let i = 0; i < numeric.length; i++) {
      const orig = values[k]![i]!
      values[k]![i] = orig + eps
      const up = await lossAt(d, values, inputs, build)
      values[k]![i] = orig - eps
      const down = await lossAt(d, values, inputs, build)
      values[k]![i] = orig
      // The step actually taken in f32, not the nominal eps.
      numeric[i] = (up - down) / (Math.fround(orig + eps) - Math.fround(orig - eps))
    }
    try {
      expectClose(grads[k]!, numeric, rtol, atol)
    } catch (err) {
      throw new Error(`input ${k} ${JSON.stringify(inputs[k]!.shape)}: ${(err as Error).message}`)
    }
  }
}

/** The tape's gradients on WebGPU equal those on the CPU reference. */
export async function compareBackendGrads(inputs: GradInput[], build: GradBuild, opts: { rtol?: number; atol?: number } = {}): Promise<void> {
  const expected = await analyticGrads(await cpuDevice(), inputs, build)
  const actual = await analyticGrads(await gpuDevice(), inputs, build)
  for (let k = 0; k < inputs.length; k++) expectClose(actual.grads[k]!, expected.grads[k]!, opts.rtol ?? 1e-4, opts.atol ?? 1e-5)
}
