import { describe, expect, it } from 'vitest'
import { generateText } from '../bench/corpus.mjs'
import { seededRandom } from '../src/index.js'
import { gpt2Tokenizer } from './helpers.js'

const text = generateText(30_000, 17)

describe('BPE-dropout', () => {
  const gpt2 = gpt2Tokenizer()

  it('with p = 0 equals plain encode (dropout path vs cached linear path)', () => {
    expect(gpt2.encode(text, { dropout: 0, seed: 1 })).toEqual(gpt2.encode(text))
  })

  it('with p > 0 is deterministic for a seed, differs across seeds, and decodes back', () => {
    const a = gpt2.encode(text, { dropout: 0.1, seed: 42 })
    const b = gpt2.encode(text, { dropout: 0.1, seed: 42 })
    const c = gpt2.encode(text, { dropout: 0.1, seed: 43 })
    const plain = gpt2.encode(text)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    expect(a.length).toBeGreaterThan(plain.length)
    expect(gpt2.decode(a)).toBe(text)
    expect(gpt2.decode(c)).toBe(text)
  })

  it('drops more merges as p grows, and p = 1 leaves single bytes', () => {
    const lengths = [0.05, 0.3, 0.7].map((p) => gpt2.encode(text, { dropout: p, seed: 3 }).length)
    expect(lengths[0]!).toBeLessThan(lengths[1]!)
    expect(lengths[1]!).toBeLessThan(lengths[2]!)
    const bytes = new TextEncoder().encode(text).length
    expect(gpt2.encode(text, { dropout: 1, seed: 3 }).length).toBe(bytes)
  })

  it('accepts a persistent random source and does not pollute the cache', () => {
    const random = seededRandom(9)
    const first = gpt2.encode('unbelievably photographic', { dropout: 0.5, random })
    const second = gpt2.encode('unbelievably photographic', { dropout: 0.5, random })
    expect(gpt2.decode(first)).toBe('unbelievably photographic')
    expect(gpt2.decode(second)).toBe('unbelievably photographic')
    expect(gpt2.encode('unbelievably photographic')).toEqual(gpt2.encode('unbelievably photographic', { dropout: 0 }))
  })

  it('gives batch items independent draws from one seed', () => {
    const batch = gpt2.encodeBatch(['photographic photographic photographic', 'photographic photographic photographic'], {
      dropout: 0.5,
      seed: 1,
    })
    expect(batch[0]).not.toEqual(batch[1])
  })

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => gpt2.encode('x', { dropout: 1.5 })).toThrow(RangeError)
    expect(() => gpt2.encode('x', { dropout: Number.NaN })).toThrow(RangeError)
  })
})
