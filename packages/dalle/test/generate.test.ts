import { CONTRACT_VERSIONS, listPlugins, PluginNotFoundError, registerPlugin, unregisterPlugin } from '@tessera/plugins'
import { ops, tidy } from '@tessera/tensor-core'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DalleInputError, imageTokens, loadBundle, PromptTooLongError, regionMask, type DalleBundle, type GenerateProgress } from '../src/index.js'
import { cpuDevice, gpuDevice, tinyBundleDir } from './helpers.js'

let dir: string
let bundle: DalleBundle
beforeAll(async () => {
  dir = await tinyBundleDir(await cpuDevice())
  bundle = await loadBundle(await cpuDevice(), dir)
  // A reranker from "another package": scores an image by its mean brightness.
  registerPlugin({
    kind: 'reranker',
    name: 'test-brightness',
    contract: CONTRACT_VERSIONS.reranker,
    create: () => ({ score: async (_prompt, images) => (await tidy(() => ops.mean(ops.reshape(images, [images.shape[0]!, -1]), 1)).read()) as Float32Array }),
  })
})
afterAll(async () => {
  unregisterPlugin('reranker', 'test-brightness')
  bundle.dispose()
  await rm(dir, { recursive: true, force: true })
})

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length

describe('generate', () => {
  it('is deterministic by seed: the same seed gives the same tokens and pixels, another seed others', async () => {
    const opts = { prompt: 'a red heart', count: 3, seed: 7, topK: 16, temperature: 0.9 }
    const a = await bundle.generate(opts)
    const b = await bundle.generate(opts)
    const c = await bundle.generate({ ...opts, seed: 8 })
    expect(a.tokens.length).toBe(3 * 16)
    expect([...a.tokens]).toEqual([...b.tokens])
    expect([...a.images.pixels]).toEqual([...b.images.pixels])
    expect([...c.tokens]).not.toEqual([...a.tokens])
    expect(a.images.shape).toEqual([3, 3, 32, 32])
    expect(a.images.rgba(0)).toMatchObject({ width: 32, height: 32 })
    expect(a.reranker).toBe('none')
    expect([...a.scores]).toEqual([0, 0, 0])
    expect(a.candidates).toEqual([0, 1, 2])
    expect(a.seconds).toBeGreaterThan(0)
  })

  it("uses the bundle's recommended sampling settings where the caller leaves them out", async () => {
    const { mkdtemp, writeFile, readFile, cp } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const withDefaults = await mkdtemp(join(tmpdir(), 'dalle-sampling-'))
    await cp(dir, withDefaults, { recursive: true })
    const manifest = JSON.parse(await readFile(join(withDefaults, 'manifest.json'), 'utf8'))
    await writeFile(join(withDefaults, 'manifest.json'), JSON.stringify({ ...manifest, sampling: { topK: 2, guidance: 3 } }))
    const recommended = await loadBundle(await cpuDevice(), withDefaults)
    const opts = { prompt: 'a red heart', count: 2, seed: 5 }
    const byDefault = await recommended.generate(opts)
    expect([...byDefault.tokens]).toEqual([...(await bundle.generate({ ...opts, topK: 2, guidance: 3 })).tokens])
    expect([...byDefault.tokens]).not.toEqual([...(await bundle.generate(opts)).tokens])
    // An explicit option wins over the bundle's.
    expect([...(await recommended.generate({ ...opts, topK: 64, guidance: 1 })).tokens]).toEqual([...(await bundle.generate({ ...opts, topK: 64, guidance: 1 })).tokens])
    await writeFile(join(withDefaults, 'manifest.json'), JSON.stringify({ ...manifest, sampling: { topk: 2 } }))
    await expect(loadBundle(await cpuDevice(), withDefaults)).rejects.toThrow(/sampling may set topK, topP, temperature and guidance/)
    recommended.dispose()
    await rm(withDefaults, { recursive: true, force: true })
  })

  it('gives the same tokens on WebGPU as on the CPU backend (greedy)', async () => {
    const gpu = await loadBundle(await gpuDevice(), dir)
    const opts = { prompt: 'a blue star', count: 2, sampler: 'greedy' }
    expect([...(await gpu.generate(opts)).tokens]).toEqual([...(await bundle.generate(opts)).tokens])
    gpu.dispose()
  })

  it('keeps the best `keep` candidates by the reranker, best first', async () => {
    const all = await bundle.generate({ prompt: 'a blue star', count: 6, seed: 3 })
    const best = await bundle.generate({ prompt: 'a blue star', count: 6, keep: 2, seed: 3, reranker: 'test-brightness' })
    const brightness = Array.from({ length: 6 }, (_, i) => mean(all.images.planes(i).data))
    const order = brightness.map((_, i) => i).sort((x, y) => brightness[y]! - brightness[x]!)
    expect(best.reranker).toBe('test-brightness')
    expect(best.candidates).toEqual(order.slice(0, 2))
    expect(best.scores[0]).toBeGreaterThanOrEqual(best.scores[1]!)
    expect(best.candidateScores.length).toBe(6)
    for (let k = 0; k < 2; k++) {
      const c = best.candidates[k]!
      expect(best.scores[k]).toBeCloseTo(brightness[c]!, 5)
      expect([...best.tokens.subarray(k * 16, (k + 1) * 16)]).toEqual([...all.tokens.subarray(c * 16, (c + 1) * 16)])
      expect([...best.images.planes(k).data]).toEqual([...all.images.planes(c).data])
    }
  })

  it("image-to-image keeps the given region's tokens (top rows, left columns, any mask) and samples the rest", async () => {
    const source = await bundle.generate({ prompt: 'a green circle', seed: 11 })
    const given = await imageTokens(bundle.dvae, source.images.rgba(0))
    for (const keep of ['top', 'left', Uint8Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0))] as const) {
      const known = regionMask(keep, [4, 4], 0.5)
      const out = await bundle.generate({ prompt: 'a red heart', count: 3, seed: 5, imagePrompt: { image: source.images.planes(0), keep, amount: 0.5 } })
      let sampledDiffer = false
      for (let r = 0; r < 3; r++) {
        for (let i = 0; i < 16; i++) {
          if (known[i]) expect(out.tokens[r * 16 + i], `image ${r} position ${i}`).toBe(given[i])
          else if (out.tokens[r * 16 + i] !== given[i]) sampledDiffer = true
        }
      }
      expect(sampledDiffer).toBe(true)
    }
    expect([...regionMask('top', [4, 4], 0.25)]).toEqual([1, 1, 1, 1, ...new Array(12).fill(0)])
    expect([...regionMask('left', [4, 4], 0.25)]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    expect(() => regionMask(new Uint8Array(5), [4, 4])).toThrow(DalleInputError)
  })

  it('reports progress by grid row with previews: drawn tokens decoded, the rest blank', async () => {
    const seen: GenerateProgress[] = []
    const previews: Float32Array[] = []
    const out = await bundle.generate({
      prompt: 'a red heart',
      count: 2,
      seed: 2,
      onProgress: async (p) => {
        seen.push(p)
        previews.push((await p.preview()).pixels)
      },
    })
    expect(seen.map((p) => p.done)).toEqual([4, 8, 12, 16])
    expect(seen[1]!.tokens.length).toBe(2 * 8)
    // After two of four rows: the lower half of each image is white, the upper half is not all white.
    const half = previews[1]!.subarray(0, 3 * 32 * 32)
    const lower = half.subarray(16 * 32, 32 * 32)
    expect([...lower].every((v) => v === 1)).toBe(true)
    expect([...half.subarray(0, 16 * 32)].some((v) => v !== 1)).toBe(true)
    expect([...previews[3]!]).toEqual([...out.images.pixels])
  })

  it('a prompt longer than the prior takes is a PromptTooLongError unless truncate', async () => {
    const prompt = 'a small red star and a big blue heart and a green circle'
    await expect(bundle.generate({ prompt })).rejects.toThrow(PromptTooLongError)
    await expect(bundle.generate({ prompt })).rejects.toThrow(/takes at most 8/)
    expect((await bundle.generate({ prompt, truncate: true })).tokens.length).toBe(16)
  })

  it('unknown samplers, masks and rerankers are PluginNotFoundErrors listing the known names', async () => {
    await expect(bundle.generate({ prompt: 'a red heart', sampler: 'nucleus' })).rejects.toThrow(PluginNotFoundError)
    await expect(bundle.generate({ prompt: 'a red heart', masks: 'diagonal' })).rejects.toThrow(/registered: .*'row'/)
    await expect(bundle.generate({ prompt: 'a red heart', reranker: 'aesthetic' })).rejects.toThrow(/no reranker plugin named 'aesthetic'; registered: .*'none'.*'clip'/)
  })

  it("registers @tessera/clip-rerank's 'clip' reranker; a bundle without a clip component reranks with 'none' by default", async () => {
    expect(listPlugins('reranker')).toContain('clip')
    expect((await bundle.generate({ prompt: 'a red heart' })).reranker).toBe('none')
  })

  it('generates under another mask schedule with the same weights', async () => {
    const own = await bundle.generate({ prompt: 'a red heart', count: 2, sampler: 'greedy' })
    const same = await bundle.generate({ prompt: 'a red heart', count: 2, sampler: 'greedy', masks: ['row', 'column'] })
    const causal = await bundle.generate({ prompt: 'a red heart', count: 2, sampler: 'greedy', masks: 'causal' })
    expect([...same.tokens]).toEqual([...own.tokens])
    expect(causal.tokens.length).toBe(own.tokens.length)
  })

  it('checks count and keep', async () => {
    await expect(bundle.generate({ prompt: 'a red heart', count: 2, keep: 3 })).rejects.toThrow(/keep \(3\) cannot be more than count \(2\)/)
    await expect(bundle.generate({ prompt: 'a red heart', count: 0 })).rejects.toThrow(DalleInputError)
  })

  it('stops when the signal aborts', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stopped by the test'))
    await expect(bundle.generate({ prompt: 'a red heart', signal: controller.signal })).rejects.toThrow('stopped by the test')
  })
})
