// Parity with the independent PyTorch reference (python/tessera_torch/prior.py; fixtures from
// scripts/make_fixtures.py): logits, loss terms, every gradient and one AdamW step, per mask, on
// the CPU reference backend and on WebGPU.
import { getPlugin } from '@tessera/plugins'
import { optim, tidy, io } from '@tessera/tensor-core'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Prior, type PriorConfig } from '../src/index.js'
import { devices } from './helpers.js'

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname

interface Fixture {
  config: PriorConfig
  tensors: Record<string, io.HostTensor>
  json: Record<string, unknown>
}

async function load(name: string): Promise<Fixture> {
  const json = JSON.parse(readFileSync(fixture(`${name}.json`), 'utf8'))
  const { tensors } = await io.readSafetensorsFile(fixture(`${name}.safetensors`))
  return { config: json.config, tensors, json }
}

const weightsOf = (f: Fixture, params: string[], prefix = '') => Object.fromEntries(params.map((n) => [n, f.tensors[prefix + n]!]))

/** max |a − e| ≤ rtol · max |e| (+ a tiny floor): "within 1e-4 relative" over a whole tensor. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, what = '') {
  expect(actual.length, what).toBe(expected.length)
  let scale = 0
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!))
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!))
  }
  expect(worst, `${what}: max error ${worst} vs scale ${scale}`).toBeLessThanOrEqual(rtol * scale + 1e-7)
}

describe('masks equal the PyTorch reference (T 3, grid 4 × 5)', () => {
  const masks = JSON.parse(readFileSync(fixture('masks.json'), 'utf8'))
  for (const [key, { entry, allowed }] of Object.entries(masks.masks as Record<string, { entry: string | { name: string }; allowed: string[] }>)) {
    it(key, () => {
      const { name, ...opts } = typeof entry === 'string' ? { name: entry } : entry
      const mine = getPlugin('attentionMask', name).allowed({ ...opts, textLength: 3, gridSize: [4, 5] })
      expect(Array.from({ length: 23 }, (_, q) => [...mine.subarray(q * 23, q * 23 + 23)].join(''))).toEqual(allowed)
    })
  }
})

describe.each(devices)('parity with PyTorch on %s', (_name, getDevice) => {
  it('prior-tiny (row, column, conv 3, causal): logits, loss terms, gradients, one AdamW step', async () => {
    const device = await getDevice()
    const f = await load('prior-tiny')
    const params = (f.json.tensors as { parameters: string[] }).parameters
    const prior = new Prior(device, f.config)
    prior.loadStateDict(weightsOf(f, params))
    const text = device.tensor(f.tensors['input.text']!.data, f.tensors['input.text']!.shape, { dtype: 'i32' })
    const image = device.tensor(f.tensors['input.image']!.data, f.tensors['input.image']!.shape, { dtype: 'i32' })
    const { textLogits, imageLogits } = tidy(() => prior.forward(text, image))
    expectClose(await textLogits.read(), f.tensors.text_logits!.data, 1e-4, 'text logits')
    expectClose(await imageLogits.read(), f.tensors.image_logits!.data, 1e-4, 'image logits')
    const { loss, textCe, imageCe } = prior.losses(text, image)
    for (const [t, key] of [[loss, 'loss'], [textCe, 'text_ce'], [imageCe, 'image_ce']] as const) expectClose([await t.item()], f.tensors[key]!.data, 1e-5, key)

    loss.backward()
    for (const [name, p] of prior.namedParameters()) {
      // The key bias's gradient is 0 in exact arithmetic: compare it on the scale of its block's whole qkv bias.
      const expected = f.tensors[`grad.${name}`]!.data
      expectClose(await p.grad!.read(), expected, name.endsWith('attn.qkv.bias') ? 1e-3 : 1e-4, `grad ${name}`)
    }
    const adamw = f.json.adamw as { lr: number; betas: [number, number]; eps: number; weightDecay: number }
    const opt = new optim.AdamW(prior.namedParameters(), adamw)
    opt.step()
    for (const [name, p] of prior.namedParameters()) {
      const after = await p.read()
      const want = f.tensors[`step1.${name}`]!.data
      const grad = f.tensors[`grad.${name}`]!.data
      const before = f.tensors[name]!.data
      for (let i = 0; i < want.length; i++) {
        // Adam's first step is ≈ lr·sign(g): where |g| < 1e-6 its sign is rounding noise.
        const tol = Math.abs(grad[i]!) < 1e-6 ? adamw.lr * 1.01 : 1e-5 + 1e-4 * Math.abs(want[i]! - before[i]!)
        if (Math.abs(after[i]! - want[i]!) > tol) expect.fail(`step1 ${name}[${i}]: ${after[i]} vs ${want[i]} (|g| ${Math.abs(grad[i]!)})`)
      }
    }
    opt.dispose()
    prior.dispose()
  })

  it('prior-masks-each: one layer under each mask alone', async () => {
    const device = await getDevice()
    const f = await load('prior-masks-each')
    const params = (f.json.tensors as { parameters: string[] }).parameters
    const entries = Object.fromEntries(Object.entries(f.json.masks as Record<string, { mask: string | { name: string } }>).map(([k, v]) => [k, v.mask]))
    for (const [key, entry] of Object.entries(entries)) {
      const prior = new Prior(device, { ...f.config, masks: [entry] })
      prior.loadStateDict(weightsOf(f, params))
      const text = device.tensor(f.tensors['input.text']!.data, f.tensors['input.text']!.shape, { dtype: 'i32' })
      const image = device.tensor(f.tensors['input.image']!.data, f.tensors['input.image']!.shape, { dtype: 'i32' })
      expectClose(await prior.imageLogits(text, image).read(), f.tensors[`${key}.image_logits`]!.data, 1e-4, `${key} image logits`)
      expectClose([await prior.losses(text, image).loss.item()], f.tensors[`${key}.loss`]!.data, 1e-5, `${key} loss`)
      prior.dispose()
    }
  })

  it('prior-full: a layer under the full mask', async () => {
    const device = await getDevice()
    const f = await load('prior-full')
    const prior = new Prior(device, f.config)
    prior.loadStateDict(weightsOf(f, (f.json.tensors as { parameters: string[] }).parameters))
    const text = device.tensor(f.tensors['input.text']!.data, f.tensors['input.text']!.shape, { dtype: 'i32' })
    const image = device.tensor(f.tensors['input.image']!.data, f.tensors['input.image']!.shape, { dtype: 'i32' })
    expectClose(await prior.imageLogits(text, image).read(), f.tensors.image_logits!.data, 1e-4, 'image logits')
    prior.dispose()
  })

  it('greedy generation (with and without a 7-token prefix) equals the reference, with and without the KV cache', async () => {
    const device = await getDevice()
    const f = await load('prior-tiny')
    const prior = new Prior(device, f.config)
    prior.loadStateDict(weightsOf(f, (f.json.tensors as { parameters: string[] }).parameters))
    const text = f.tensors['input.text']!.data
    const captions = [Array.from(text.subarray(0, 3)), Array.from(text.subarray(3, 6))]
    const given = Array.from(f.tensors['input.image']!.data)
    for (const kvCache of [true, false]) {
      const greedy = await prior.generate(captions, { sampler: 'greedy', kvCache })
      expect([...(await greedy.read())]).toEqual([...f.tensors['generate.greedy']!.data])
      const known = Array.from({ length: 20 }, (_, i) => +(i < 7))
      const prefixed = await prior.generate(captions, { sampler: 'greedy', kvCache, imagePrompt: { tokens: given, known } })
      expect([...(await prefixed.read())]).toEqual([...f.tensors['generate.greedy_prefix7']!.data])
    }
    prior.dispose()
  })
})
