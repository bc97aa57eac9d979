import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { noGrad, tidy } from '@tessera/tensor-core'
import { getPlugin, listPlugins } from '@tessera/plugins'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { modelUrl } from '@tessera/models'
import { clipBundleComponent, clipRerank, imageBatchLimit, loadClip, peakImageBytes, preprocessPixels, VIT_B_32, type ClipTextTokenizer } from '../src/index.js'
import { device } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny', import.meta.url))

// The fixture's vocabulary: 40 ids, start 38, end 39.
const tokenizer: ClipTextTokenizer = {
  vocabSize: 40,
  endOfTextId: 39,
  tokenize(texts, opts = {}) {
    const l = opts.contextLength ?? 7
    return (typeof texts === 'string' ? [texts] : texts).map((t) => {
      const ids = [...t].slice(0, l - 2).map((c) => 1 + (c.charCodeAt(0) % 37))
      const row = new Int32Array(l)
      row.set([38, ...ids, 39])
      return row
    })
  },
}

function randomPixels(n: number, size: number, seed: number): Float32Array {
  let s = seed
  return Float32Array.from({ length: n * 3 * size * size }, () => ((s = (s * 1103515245 + 12345) >>> 0), s / 2 ** 32))
}

describe('batch limits', () => {
  it('512 ViT-B/32 candidates run in 3 slices under a 128 MiB binding limit', () => {
    const perImage = peakImageBytes(VIT_B_32)
    expect(perImage).toBe(4 * 50 * 4 * 768)
    const fake = { config: VIT_B_32, device: { maxTensorBytes: 128 * 2 ** 20 } } as unknown as Parameters<typeof imageBatchLimit>[0]
    const batch = imageBatchLimit(fake)
    expect(batch).toBeGreaterThanOrEqual(171)
    expect(Math.ceil(512 / batch)).toBe(3)
  })
})

describe.each(['cpu', 'webgpu'] as const)('clipRerank on %s', (backend) => {
  it('scores 512 candidates in slices as one pass would, and keeps the best k', async () => {
    const d = await device(backend)
    const { model } = await loadClip(d, FIXTURE)
    const n = 512
    const pixels = randomPixels(n, 16, 1)
    const images = { data: pixels, shape: [n, 3, 16, 16] as const }
    const sliced = await clipRerank(model, tokenizer, 'a red cat', images, { keep: 32, batchSize: 100 })
    expect(sliced.indices).toHaveLength(32)
    // The same scores computed in one pass, by hand: exp(logit_scale)·cos.
    const logits = noGrad(() =>
      tidy(() => model.logits(d.tensor(preprocessPixels(pixels, 16, 16), [n, 3, 16, 16]), d.tensor(tokenizer.tokenize(['a red cat'], { contextLength: 7 })[0]!, [1, 7]))),
    )
    const expected = await logits.read()
    logits.dispose()
    for (let i = 0; i < n; i++) expect(sliced.scores[i]).toBeCloseTo(expected[i]!, 4)
    const best = Array.from(expected.keys()).sort((a, b) => expected[b]! - expected[a]!).slice(0, 32)
    expect(sliced.indices).toEqual(best)
    for (let i = 1; i < 32; i++) expect(sliced.scores[sliced.indices[i - 1]!]!).toBeGreaterThanOrEqual(sliced.scores[sliced.indices[i]!]!)
    // Device pixels at the model's size stay on the device and agree.
    const onDevice = d.tensor(pixels, [n, 3, 16, 16])
    const fromDevice = await clipRerank(model, tokenizer, 'a red cat', onDevice, { keep: 32 })
    expect(fromDevice.indices).toEqual(sliced.indices)
    onDevice.dispose()
    model.dispose()
  })

  it('resizes candidates of another size as OpenAI preprocessing does', async () => {
    const d = await device(backend)
    const { model } = await loadClip(d, FIXTURE)
    const pixels = randomPixels(5, 24, 2)
    const result = await clipRerank(model, tokenizer, 'x', { data: pixels, shape: [5, 3, 24, 24] }, { keep: 2 })
    expect(result.scores).toHaveLength(5)
    expect(result.indices).toHaveLength(2)
    expect(result.scores.every(Number.isFinite)).toBe(true)
    model.dispose()
  })
})

describe('the clip reranker plugin', () => {
  it("registers as 'clip' beside 'none' on import and scores through the plugin contract", async () => {
    expect(listPlugins('reranker')).toEqual(expect.arrayContaining(['clip', 'none']))
    const d = await device('cpu')
    const { model } = await loadClip(d, FIXTURE)
    const images = d.tensor(randomPixels(6, 16, 3), [6, 3, 16, 16])
    const scores = await getPlugin('reranker', 'clip').create({ model, tokenizer }).score('a cat', images)
    const direct = await clipRerank(model, tokenizer, 'a cat', images)
    // Close, not identical: the registry lives on globalThis, so in one test process the 'clip'
    // entry may be an earlier test file's copy of this module (ifAbsent keeps the first), with
    // its own tensor-core instance and kernel choices.
    expect(scores).toHaveLength(6)
    scores.forEach((v, i) => expect(v).toBeCloseTo(direct.scores[i]!, 4))
    expect(Array.from(await getPlugin('reranker', 'none').create({}).score('a cat', images))).toEqual([0, 0, 0, 0, 0, 0])
    expect(() => getPlugin('reranker', 'clip').create({})).toThrow(/model: CLIP, tokenizer/)
    images.dispose()
    model.dispose()
  })

  it("loads a @tessera/dalle bundle's clip component when generate passes { device, bundle }", async () => {
    const d = await device('cpu')
    const dir = fileURLToPath(modelUrl('clip-emoji'))
    const part = await clipBundleComponent(dir)
    expect(part.kind).toBe('tessera-clip')
    expect(part.files).toEqual({ weights: 'clip.safetensors', tokenizer: 'tokenizer.json' })
    // As saveBundle lays it out: the files under clip/, read back by role.
    const bundle = {
      manifest: { components: { clip: { kind: part.kind, config: part.config, files: { weights: 'clip/clip.safetensors', tokenizer: 'clip/tokenizer.json' } } } },
      readFile: async (_component: 'clip', role: string) => new Uint8Array(await readFile(join(dir, part.files[role]!))),
    }
    const images = d.tensor(randomPixels(5, 32, 4), [5, 3, 32, 32])
    const fromBundle = await getPlugin('reranker', 'clip').create({ device: d, bundle }).score('grinning face', images)
    const { model, tokenizer: own } = await loadClip(d, dir)
    const direct = await clipRerank(model, own, 'grinning face', images)
    fromBundle.forEach((v, i) => expect(v).toBeCloseTo(direct.scores[i]!, 4))
    images.dispose()
    model.dispose()
  })
})
