import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { optim, tidy, io } from '@tessera/tensor-core'
import { clipObjective, loadClip } from '../src/index.js'
import { device, maxRelativeError } from './helpers.js'

// Built by fixtures/make_fixtures.py: OpenAI's CLIP structure in PyTorch at a tiny size.
const FIXTURE = fileURLToPath(new URL('../fixtures/tiny', import.meta.url))

async function reference(): Promise<{ tensors: Record<string, io.HostTensor>; metadata: Record<string, string> }> {
  return io.readSafetensorsFile(`${FIXTURE}/reference.safetensors`)
}

// The reference is PyTorch in f64 from the same f32 weights: the exact answer.
const RTOL = 1e-4

/**
 * ‖a − e‖ / ‖e‖ for a whole tensor. Gradients and updates are judged this way: their small
 * entries come from cancellations that f32 cannot resolve elementwise — PyTorch's own f32
 * gradients are 4e-4 off the f64 ones elementwise (floor 1e-3 of the largest), 1.1e-6 in this norm.
 */
function relL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2
    norm += expected[i]! ** 2
  }
  return Math.sqrt(diff / norm)
}

/** Relative error with entries under 1e-3 of the largest judged against that floor. */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!))
  return maxRelativeError(actual, expected, scale * 1e-3)
}

describe.each(['cpu', 'webgpu'] as const)('PyTorch parity on %s', (backend) => {
  it('image features, text features and logits match', async () => {
    const d = await device(backend)
    const { tensors: ref } = await reference()
    const { model } = await loadClip(d, FIXTURE)
    const images = d.tensor(ref.images!.data, ref.images!.shape)
    const tokens = d.tensor(ref.tokens!.data, ref.tokens!.shape)
    const [img, txt, logits] = tidy(() => [model.encodeImage(images), model.encodeText(tokens), model.logits(images, tokens)])
    const errors = {
      image: relError(await img!.read(), ref.image_features!.data as Float32Array),
      text: relError(await txt!.read(), ref.text_features!.data as Float32Array),
      logits: relError(await logits!.read(), ref.logits_per_image!.data as Float32Array),
    }
    console.log(`${backend} forward max relative error`, errors)
    for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(RTOL)
    for (const t of [images, tokens, img!, txt!, logits!]) t.dispose()
    model.dispose()
  })

  it('one training step: loss, every gradient, the clipped norm and the AdamW-updated, clamped weights match', async () => {
    const d = await device(backend)
    const { tensors: ref, metadata } = await reference()
    const { model } = await loadClip(d, FIXTURE)
    const images = d.tensor(ref.images!.data, ref.images!.shape)
    const tokens = d.tensor(ref.tokens!.data, ref.tokens!.shape)
    const loss = tidy(() => {
      const { loss } = clipObjective(model, images, tokens)
      loss.backward()
      return loss
    })
    expect(Math.abs((await loss.item()) - ref.loss!.data[0]!) / ref.loss!.data[0]!).toBeLessThan(RTOL)
    const params = model.namedParameters()
    const gradNames = Object.keys(ref).filter((n) => n.startsWith('grad.'))
    expect(gradNames.length).toBe(params.length)
    let worstGrad = 0
    for (const [name, p] of params) {
      if (!p.grad) throw new Error(`no gradient for ${name}`)
      const e = relL2(await p.grad.read(), ref[`grad.${name}`]!.data as Float32Array)
      worstGrad = Math.max(worstGrad, e)
      expect(e, name).toBeLessThan(RTOL)
    }
    const before = Object.fromEntries(await Promise.all(params.map(async ([name, p]) => [name, (await p.read()) as Float32Array] as const)))
    const opt = new optim.AdamW(params, {
      lr: Number(metadata.lr),
      betas: [Number(metadata.beta1), Number(metadata.beta2)],
      eps: Number(metadata.eps),
      weightDecay: Number(metadata.weight_decay),
    })
    const norm = optim.clipGradNorm(model.parameters(), Number(metadata.grad_clip))!
    expect(Math.abs((await norm.item()) - ref.grad_norm!.data[0]!) / ref.grad_norm!.data[0]!).toBeLessThan(RTOL)
    opt.step()
    model.clampLogitScale()
    let worstStep = 0
    for (const [name, p] of params) {
      // The change each weight took, against PyTorch's (the weights themselves would hide it).
      let was = before[name]!
      let after = (await p.read()) as Float32Array
      let expected = ref[`step.${name}`]!.data as Float32Array
      if (name.endsWith('attn.in_proj_bias')) {
        // The key bias adds q·b_k to every score of a row, which softmax ignores: its gradient is
        // exactly zero (1e-17 in f64) and in f32 rounding noise (1e-8–1e-7). Adam's first step,
        // lr·g/(|g| + eps), turns that noise into updates up to ~0.1·lr: judged on their own.
        const w = was.length / 3
        const k = after.subarray(w, 2 * w).map((v, i) => v - was[w + i]!)
        expect(Math.max(...k.map(Math.abs)), `${name} key part`).toBeLessThan(0.2 * Number(metadata.lr))
        const drop = (a: Float32Array) => Float32Array.from([...a.subarray(0, w), ...a.subarray(2 * w)])
        ;[was, after, expected] = [drop(was), drop(after), drop(expected)]
      }
      // Both sides store the updated weight in f32, each rounding it by up to half an ulp: one ulp
      // (2^-23 relative) is allowed on top, which matters only for logit_scale (a step of 1e-3 on
      // 2.66, where an ulp is 2.4e-7, 2.4e-4 of the step).
      const diff = relL2(after, expected) * Math.hypot(...expected)
      const change = Math.hypot(...expected.map((v, i) => v - was[i]!))
      const e = Math.max(0, diff - 2 ** -23 * Math.hypot(...expected)) / change
      worstStep = Math.max(worstStep, e)
      expect(e, name).toBeLessThan(RTOL)
    }
    console.log(`${backend} training step: loss ${await loss.item()} (PyTorch ${ref.loss!.data[0]}), worst gradient error ${worstGrad.toExponential(2)}, worst updated-weight error ${worstStep.toExponential(2)}`)
    for (const t of [images, tokens, loss, norm]) t.dispose()
    opt.dispose()
    model.dispose()
  })
})
