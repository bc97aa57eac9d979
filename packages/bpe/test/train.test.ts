import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { generateText } from '../bench/corpus.mjs'
import { BPETokenizer, BYTE_ORDER, GPT2_PATTERN, train, type BpeModel } from '../src/index.js'

const corpus = generateText(120_000, 5)

/**
 * Brute-force trainer: recount every pair of every word before each merge. Slow but obviously
 * right; the fast incremental trainer must pick exactly the same merges (ties: lowest ids).
 */
function naiveMerges(text: string, merges: number, suffix: string | null, minFrequency = 2): [number, number][] {
  const counts = new Map<string, number>()
  for (const line of text.split('\n')) for (const p of line.match(new RegExp(GPT2_PATTERN, 'gu')) ?? []) counts.set(p, (counts.get(p) ?? 0) + 1)
  const byteId = new Map(BYTE_ORDER.map((b, i) => [b, i]))
  const words = [...counts].map(([w, f]) => {
    const syms = Array.from(new TextEncoder().encode(w), (b) => byteId.get(b)!)
    if (suffix !== null) syms[syms.length - 1]! += 256
    return { syms, f }
  })
  const tokens: string[] = [] // only needed to dedupe equal spellings, which the test corpus avoids
  let next = suffix === null ? 256 : 512
  const out: [number, number][] = []
  while (out.length < merges) {
    const pairCounts = new Map<number, number>()
    for (const { syms, f } of words) for (let i = 0; i + 1 < syms.length; i++) {
      const k = syms[i]! * 65536 + syms[i + 1]!
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + f)
    }
    let best = -1
    let bestCount = 0
    for (const [k, c] of pairCounts) if (c > bestCount || (c === bestCount && k < best)) [best, bestCount] = [k, c]
    if (best < 0 || bestCount < minFrequency) break
    const a = Math.floor(best / 65536)
    const b = best % 65536
    out.push([a, b])
    const id = next++
    tokens.push(String(id))
    for (const w of words) {
      const s: number[] = []
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          s.push(id)
          i++
        } else s.push(w.syms[i]!)
      }
      w.syms = s
    }
  }
  return out
}

describe('trainer', () => {
  it('chooses the same merges as a brute-force trainer', async () => {
    const small = corpus.slice(0, 30_000)
    const tok = await BPETokenizer.train(small, { vocabSize: 256 + 300 })
    expect(tok.model.merges).toEqual(naiveMerges(small, 300, null))
  })

  it('chooses the same merges as brute force with a word-end suffix', async () => {
    const small = corpus.slice(0, 20_000)
    const tok = await BPETokenizer.train(small, { vocabSize: 512 + 200, endOfWordSuffix: '</w>' })
    expect(tok.model.merges).toEqual(naiveMerges(small, 200, '</w>'))
    // GPT-2 pieces keep their leading space and CLIP's decode rule adds one per word end.
    expect(tok.decode(tok.encode('a photo of a cat'))).toBe('a  photo  of  a  cat ')
    expect(tok.encode('cat').length).toBeLessThan(3)
  })

  it('reaches the vocabulary size, places special tokens last and round-trips text', async () => {
    const tok = await BPETokenizer.train(corpus, { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<|pad|>'] })
    expect(tok.vocabSize).toBe(1000)
    expect(tok.tokenToId('<|endoftext|>')).toBe(998)
    expect(tok.tokenToId('<|pad|>')).toBe(999)
    const text = corpus.slice(50_000, 60_000) + '<|endoftext|>'
    const ids = tok.encode(text)
    expect(ids[ids.length - 1]).toBe(998)
    expect(tok.decode(ids)).toBe(text)
    // Learned merges compress the text it was trained on.
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length / 2)
  })

  it('stops early at minFrequency', async () => {
    const tok = await BPETokenizer.train('ab ab ab cd', { vocabSize: 300, minFrequency: 2 })
    // "ab" x3, " ab" x2 -> merges a+b, " "+ab... nothing seen once is merged.
    const learned = tok.model.merges.map(([a, b]) => tok.idToToken(a)! + tok.idToToken(b)!)
    expect(learned).toEqual(['ab', 'Ġab'])
  })

  it('lowercases when asked and keeps doing so when encoding', async () => {
    const tok = await BPETokenizer.train(corpus.slice(0, 20_000), { vocabSize: 400, lowercase: true })
    expect(tok.encode('The CAT')).toEqual(tok.encode('the cat'))
    // Byte-level spellings use 'Ã' etc. for UTF-8 bytes, so check ASCII capitals only.
    const merged = tok.model.vocab.slice(256)
    expect(merged.some((t) => /[A-Z]/.test(t!))).toBe(false)
  })

  it('gives the same model from a string, line arrays, async iterables and byte streams', async () => {
    const text = corpus.slice(0, 40_000)
    const opts = { vocabSize: 700 }
    const ref = (await BPETokenizer.train(text, opts)).model.merges
    const lines = text.split('\n')
    const bytes = new TextEncoder().encode(text)
    // Chunks of 7 bytes split multi-byte characters and lines at arbitrary points.
    const chunks: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.slice(i, i + 7))
    async function* asyncLines() {
      for (const l of lines) yield l
    }
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch)
        c.close()
      },
    })
    for (const input of [lines, asyncLines(), web, Readable.from(chunks)]) {
      expect((await train(input, opts)).model.merges).toEqual(ref)
    }
  })

  it('validates options', async () => {
    await expect(BPETokenizer.train('x', { vocabSize: 100 })).rejects.toThrow(RangeError)
    await expect(BPETokenizer.train('x', { vocabSize: 300, specialTokens: ['a', 'a'] })).rejects.toThrow(RangeError)
  })

  it('saves and loads a trained tokenizer that encodes identically (all formats)', async () => {
    const tok = await BPETokenizer.train(corpus, { vocabSize: 800, specialTokens: ['<|endoftext|>'] })
    const probe = generateText(20_000, 77) + '<|endoftext|>tail'
    const expected = tok.encode(probe)
    const copies: BPETokenizer[] = [
      BPETokenizer.fromJSON(JSON.stringify(tok)),
      BPETokenizer.fromJSON(tok.toJSON()),
      BPETokenizer.fromHuggingFace(JSON.stringify(tok.toHuggingFace())),
      BPETokenizer.fromGpt2(tok.toGpt2().encoderJson, tok.toGpt2().vocabBpe),
    ]
    for (const copy of copies) {
      expect(copy.encode(probe)).toEqual(expected)
      expect(copy.decode(expected)).toBe(probe)
    }
    const model: BpeModel = tok.model
    expect(JSON.parse(JSON.stringify(BPETokenizer.fromJSON(JSON.stringify(tok))))).toEqual(JSON.parse(JSON.stringify(tok)))
    expect(model.vocab.length).toBe(800)
  })
})
