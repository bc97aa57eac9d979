import { Device } from '@tessera/tensor-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginError, resolveSampler } from '../src/index.js'

let device: Device
beforeAll(async () => {
  device = await Device.create({ backend: 'cpu' })
})
afterAll(() => device.destroy())

const ctx = (offset = 0) => ({ position: 0, random: { seed: 7, offset } })
// Three rows of 6 logits; row 1 has a clear winner, row 2 two near-equal ones.
const LOGITS = [0, 1, 2, 3, 2, 1, -5, -5, 9, -5, -5, -5, 4, 4.1, -9, -9, -9, -9]
const logits = () => device.tensor(Float32Array.from(LOGITS), [3, 6])

describe('samplers', () => {
  it('greedy picks the argmax', async () => {
    expect([...(await resolveSampler('greedy').sample(logits(), ctx()).read())]).toEqual([3, 2, 1])
  })

  it('the same seed and offset give the same tokens; another offset gives others', async () => {
    const s = resolveSampler([{ name: 'temperature', temperature: 5 }])
    const draw = async (offset: number) => [...(await s.sample(logits(), ctx(offset)).read())]
    expect(await draw(0)).toEqual(await draw(0))
    const draws = await Promise.all([0, 18, 36, 54, 72].map(draw))
    expect(new Set(draws.map((d) => d.join())).size).toBeGreaterThan(1)
  })

  it('topK 1 and topP with a tiny p reduce to greedy; topK 2 stays within the two best', async () => {
    for (const spec of [{ name: 'topK', k: 1 }, { name: 'topP', p: 1e-6 }]) {
      expect([...(await resolveSampler(spec).sample(logits(), ctx(3)).read())]).toEqual([3, 2, 1])
    }
    const s = resolveSampler([{ name: 'temperature', temperature: 100 }, { name: 'topK', k: 2 }])
    for (let offset = 0; offset < 20; offset++) {
      const [a, , c] = await s.sample(logits(), ctx(offset * 18)).read()
      expect([2, 4, 3]).toContain(a) // ties with the 2nd value are kept too
      expect([0, 1]).toContain(c)
    }
  })

  it('cfg combines conditional and unconditional logits before the inner stages', async () => {
    const uncond = device.tensor(Float32Array.from(LOGITS.map((v, i) => (i % 6 === 0 ? v + 20 : v))), [3, 6])
    // scale 1 = the conditional logits; scale 0 = the unconditional ones (column 0 wins).
    const at = async (scale: number) => [...(await resolveSampler({ name: 'cfg', scale, sampler: 'greedy' }).sample(logits(), { ...ctx(), unconditional: uncond }).read())]
    expect(await at(1)).toEqual([3, 2, 1])
    expect(await at(0)).toEqual([0, 0, 0])
    expect(resolveSampler({ name: 'cfg', scale: 3 }).needsUnconditional).toBe(true)
    expect(() => resolveSampler({ name: 'cfg' }).sample(logits(), ctx())).toThrow(/needs the unconditional logits/)
  })

  it('bad options are PluginErrors naming the sampler', () => {
    expect(() => resolveSampler({ name: 'topK', k: 0 })).toThrow(/sampler 'topK': k must be a positive integer/)
    expect(() => resolveSampler({ name: 'topP', p: 2 })).toThrow(PluginError)
    expect(() => resolveSampler({ name: 'temperature', temperature: 0 })).toThrow(/> 0/)
  })

  it('leaves nothing allocated beyond the tokens it returns', async () => {
    const x = logits()
    const before = device.memory().storages
    const t = resolveSampler([{ name: 'temperature', temperature: 2 }, { name: 'topK', k: 3 }, { name: 'topP', p: 0.9 }]).sample(x, ctx())
    expect(device.memory().storages).toBe(before + 1)
    t.dispose()
  })
})
