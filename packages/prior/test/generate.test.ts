import { getPlugin, listPlugins } from '@tessera/plugins'
import { ops, tidy } from '@tessera/tensor-core'
import { describe, expect, it } from 'vitest'
import { Prior, PriorConfigError, PriorInputError, type LayerCache } from '../src/index.js'
import { devices, randomIds, TINY } from './helpers.js'

const MASKS = ['row', 'column', { name: 'conv', kernelSize: 3 }, 'causal'] as const
const captions = [[4, 9, 11], [7, 0, 0]]

describe.each(devices)('generation on %s', (_name, getDevice) => {
  it('KV-cache logits equal the full forward within 1e-4 at every position, for every mask', async () => {
    const device = await getDevice()
    const prior = new Prior(device, { ...TINY, layers: 4, masks: [...MASKS], seed: 3 })
    const T = TINY.textLength
    const image = device.tensor(randomIds(40, 64, 9), [2, 20])
    const text = device.tensor(Int32Array.from(captions.flat()), [2, 3])
    const full = await prior.imageLogits(text, image).read()
    const textIn = prior.textInputs(text)
    let caches: LayerCache[] | undefined
    let worst = 0
    for (let i = 0; i < 20; i++) {
      const end = T + 1 + i
      const start = caches ? end - 1 : 0
      const { step, next } = tidy(() => {
        const run = prior.runPositions(textIn, image, start, end, caches)
        const last = ops.slice(run.hidden, [undefined, { start: end - start - 1 }])
        return { step: prior.image_head.forward(last), next: run.caches }
      })
      for (const c of caches ?? []) (c.k.dispose(), c.v.dispose())
      caches = next
      const got = await step.read()
      for (let r = 0; r < 2; r++) for (let v = 0; v < 64; v++) worst = Math.max(worst, Math.abs(got[r * 64 + v]! - full[(r * 20 + i) * 64 + v]!))
    }
    expect(worst).toBeLessThan(1e-4)
    prior.dispose()
  })

  it('is reproducible by seed, differs across seeds, and gives count images per caption', async () => {
    const device = await getDevice()
    const prior = new Prior(device, { ...TINY, masks: ['row'], seed: 1 })
    const run = async (seed: number) => [...(await (await prior.generate(captions, { count: 3, seed, sampler: [{ name: 'temperature', temperature: 1.5 }, { name: 'topK', k: 20 }] })).read())]
    const a = await run(5)
    expect(a.length).toBe(2 * 3 * 20)
    expect(await run(5)).toEqual(a)
    expect(await run(6)).not.toEqual(a)
    prior.dispose()
  })

  it('keeps image-prompt tokens anywhere (left columns), samples the rest, and reports progress', async () => {
    const device = await getDevice()
    const prior = new Prior(device, { ...TINY, masks: ['causal'] })
    const known = Array.from({ length: 20 }, (_, i) => +(i % 5 < 2)) // the two left columns of the 4 × 5 grid
    const given = randomIds(20, 64, 2)
    const progress: number[] = []
    const out = await (await prior.generate([captions[0]!], { count: 2, seed: 1, imagePrompt: { tokens: given, known }, onProgress: (p) => void progress.push(p.done, p.tokens.length) })).read()
    for (let r = 0; r < 2; r++) for (let i = 0; i < 20; i++) if (known[i]) expect(out[r * 20 + i]).toBe(given[i])
    expect(progress.slice(0, 4)).toEqual([3, 6, 4, 8]) // the known prefix (positions 0, 1) runs in the prefill
    expect(progress.at(-2)).toBe(20)
    prior.dispose()
  })

  it('classifier-free guidance: scale 1 equals no guidance; other scales change the tokens', async () => {
    const device = await getDevice()
    const prior = new Prior(device, { ...TINY, masks: ['row'], seed: 4 })
    const plain = [...(await (await prior.generate(captions, { seed: 2 })).read())]
    expect([...(await (await prior.generate(captions, { seed: 2, guidance: 1 })).read())]).toEqual(plain)
    expect([...(await (await prior.generate(captions, { seed: 2, guidance: 4 })).read())]).not.toEqual(plain)
    prior.dispose()
  })

  it('stops on an AbortSignal with its reason and frees what it held', async () => {
    const device = await getDevice()
    const prior = new Prior(device, TINY)
    const before = device.memory().storages
    const stop = new AbortController()
    const run = prior.generate(captions, { signal: stop.signal, onProgress: (p) => void (p.done === 5 && stop.abort(new Error('user cancelled'))) })
    await expect(run).rejects.toThrow('user cancelled')
    expect(device.memory().storages).toBe(before)
    prior.dispose()
  })

  it('bad input is a typed error', async () => {
    const device = await getDevice()
    const prior = new Prior(device, TINY)
    await expect(prior.generate([[1, 2]])).rejects.toThrow(PriorInputError)
    await expect(prior.generate([[1, 2, 99]])).rejects.toThrow(/outside the text vocabulary/)
    await expect(prior.generate(captions, { imagePrompt: { tokens: [1], known: [1] } })).rejects.toThrow(/imagePrompt/)
    await expect(prior.generate(captions, { sampler: 'nucleus' })).rejects.toThrow(/no sampler plugin named 'nucleus'/)
    const full = new Prior(device, { ...TINY, masks: ['full'] })
    await expect(full.generate(captions)).rejects.toThrow(PriorConfigError)
    prior.dispose()
    full.dispose()
  })
})

describe('plugins from a separate package', () => {
  it('a mask and a sampler registered by another package are used by name', async () => {
    await import('./fixture-plugin/index.js')
    expect(listPlugins('attentionMask')).toContain('previous-only')
    const device = await devices[1][1]()
    const prior = new Prior(device, { ...TINY, masks: ['previous-only'] })
    // The mask is real: image token 10 is seen by the query of token 11 only (besides its own position).
    const allowed = getPlugin('attentionMask', 'previous-only').allowed({ textLength: 3, gridSize: [4, 5] })
    expect(prior.masks[0]!.allowed.subarray(23 * (3 + 12), 23 * (3 + 12) + 23).reduce((s, v) => s + v, 0)).toBe(3 + 2 + 1)
    expect(allowed.length).toBe(23 * 23)
    const tokens = await (await prior.generate(captions, { sampler: 'lowest-id' })).read()
    expect([...tokens].every((t) => t === 0)).toBe(true)
    prior.dispose()
  })
})
