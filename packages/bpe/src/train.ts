import { InvalidArgumentError } from '@tessera/errors'
import { BYTE_ORDER, BYTE_TO_CHAR, utf8Scratch } from './byte-alphabet.js'
import { corpusLines, type TextCorpus } from './corpus.js'
import { compilePattern, GPT2_PATTERN, type PatternSpec } from './pretokenize.js'
import type { BpeModel } from './model.js'

export interface TrainOptions {
  /** Total ids: 256 bytes (+256 word-final bytes with a suffix) + merges + special tokens. */
  vocabSize: number
  /** Pairs seen fewer times than this are never merged (training may stop early). Default 2. */
  minFrequency?: number
  /** Appended after the merges, in this order (GPT-2 puts `<|endoftext|>` last too). */
  specialTokens?: readonly string[]
  /** Lower-case the corpus, and later the text to encode. */
  lowercase?: boolean
  /** Word-final marker as CLIP's `</w>`: the last byte of each pre-token is a distinct symbol. */
  endOfWordSuffix?: string
  /** Pre-tokenizer; default GPT-2's pattern. */
  pattern?: PatternSpec
}

/**
 * Counts pre-tokens ("words") of the corpus. BPE only looks inside words, so training works on
 * the distinct words weighted by frequency rather than on the text.
 */
async function countWords(corpus: TextCorpus, pattern: RegExp, lowercase: boolean): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for await (let line of corpusLines(corpus)) {
    if (lowercase) line = line.toLowerCase()
    const pieces = line.match(pattern)
    if (pieces === null) continue
    for (const p of pieces) counts.set(p, (counts.get(p) ?? 0) + 1)
  }
  return counts
}

/** Max-heap of (count, pair key) with lazy deletion: stale entries are checked on pop. */
class PairHeap {
  private counts: number[] = []
  private keys: number[] = []

  get size(): number {
    return this.counts.length
  }

  /** Higher count first; equal counts break on the smaller key for deterministic output. */
  private above(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2)
  }

  push(count: number, key: number): void {
    const { counts, keys } = this
    let i = counts.length
    counts.push(count)
    keys.push(key)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.above(count, key, counts[p]!, keys[p]!)) break
      counts[i] = counts[p]!
      keys[i] = keys[p]!
      i = p
    }
    counts[i] = count
    keys[i] = key
  }

  /** Removes the top; its count and key are left in `topCount` / `topKey`. */
  topCount = 0
  topKey = 0
  pop(): void {
    const { counts, keys } = this
    this.topCount = counts[0]!
    this.topKey = keys[0]!
    const lc = counts.pop()!
    const lk = keys.pop()!
    const n = counts.length
    if (n === 0) return
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && this.above(counts[c + 1]!, keys[c + 1]!, counts[c]!, keys[c]!)) c++
      if (!this.above(counts[c]!, keys[c]!, lc, lk)) break
      counts[i] = counts[c]!
      keys[i] = keys[c]!
      i = c
    }
    counts[i] = lc
    keys[i] = lk
  }
}

/**
 * Trains a byte-level BPE tokenizer.
 *
 * Standard fast trainer (as in HuggingFace tokenizers): count words once, count adjacent pairs
 * weighted by word frequency, keep an index pair -> words containing it, and take the most
 * frequent pair from a lazy-deletion heap. Applying a merge rewrites only the words that contain
 * the pair and adjusts counts of the pairs around each merge site, so each step costs time in
 * proportion to the pair's occurrences rather than to the corpus.
 */
export async function trainModel(corpus: TextCorpus, options: TrainOptions): Promise<BpeModel> {
  const minFrequency = options.minFrequency ?? 2
  const specialTokens = options.specialTokens ?? []
  const suffix = options.endOfWordSuffix ?? null
  const lowercase = options.lowercase ?? false
  const patternSpec = options.pattern ?? { source: GPT2_PATTERN }
  const baseSize = suffix === null ? 256 : 512
  const mergeBudget = options.vocabSize - baseSize - specialTokens.length
  if (!Number.isInteger(options.vocabSize) || mergeBudget < 0) {
    throw new InvalidArgumentError(`vocabSize must be an integer >= ${baseSize + specialTokens.length}, got ${options.vocabSize}`)
  }
  if (new Set(specialTokens).size !== specialTokens.length) throw new InvalidArgumentError('specialTokens has duplicates')

  const wordCounts = await countWords(corpus, compilePattern(patternSpec), lowercase)

  // Base alphabet: ids 0..255 in GPT-2's byte order, then the word-final variants.
  const tokens: string[] = BYTE_ORDER.map((b) => BYTE_TO_CHAR[b]!)
  if (suffix !== null) for (let i = 0; i < 256; i++) tokens.push(tokens[i]! + suffix)
  const byteId = new Int32Array(256)
  BYTE_ORDER.forEach((b, i) => (byteId[b] = i))

  // Words as runs of symbol ids in one flat buffer; merges shrink them in place.
  const wordCount = wordCounts.size
  const wordStart = new Int32Array(wordCount + 1)
  const wordLen = new Int32Array(wordCount)
  const wordFreq = new Float64Array(wordCount)
  let totalSymbols = 0
  {
    let w = 0
    for (const [word, freq] of wordCounts) {
      const n = utf8Scratch(word).length
      wordStart[w] = totalSymbols
      wordLen[w] = n
      wordFreq[w] = freq
      totalSymbols += n
      w++
    }
    wordStart[wordCount] = totalSymbols
  }
  const symbols = new Int32Array(totalSymbols)
  {
    let w = 0
    for (const word of wordCounts.keys()) {
      const bytes = utf8Scratch(word)
      const s = wordStart[w]!
      for (let i = 0; i < bytes.length; i++) symbols[s + i] = byteId[bytes[i]!]!
      if (suffix !== null && bytes.length > 0) symbols[s + bytes.length - 1]! += 256
      w++
    }
  }
  wordCounts.clear()

  // Pair key = left * scale + right; with scale = 2^k >= vocabSize keys of vocabularies up to
  // 32k stay small integers, which V8 hashes fastest.
  let scale = 1
  while (scale < options.vocabSize) scale *= 2
  const pairCount = new Map<number, number>()
  const pairWords = new Map<number, number[]>()
  const addOccurrence = (key: number, w: number, freq: number): void => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + freq)
    const list = pairWords.get(key)
    if (list === undefined) pairWords.set(key, [w])
    else if (list[list.length - 1] !== w) list.push(w)
  }
  const removeOccurrence = (key: number, freq: number): void => {
    const c = (pairCount.get(key) ?? 0) - freq
    if (c > 0) {
      pairCount.set(key, c)
    } else {
      pairCount.delete(key)
      pairWords.delete(key)
    }
  }
  for (let w = 0; w < wordCount; w++) {
    const s = wordStart[w]!
    const e = s + wordLen[w]!
    for (let i = s; i + 1 < e; i++) addOccurrence(symbols[i]! * scale + symbols[i + 1]!, w, wordFreq[w]!)
  }

  const heap = new PairHeap()
  for (const [key, count] of pairCount) heap.push(count, key)

  const merges: [number, number][] = []
  // Two merge paths can spell the same token ("ab"+"c", "a"+"bc"); both then share one id.
  const tokenIds = new Map(tokens.map((t, i) => [t, i]))
  const vocabTarget = baseSize + mergeBudget
  const touched = new Set<number>()
  while (tokens.length < vocabTarget && heap.size > 0) {
    heap.pop()
    const key = heap.topKey
    const current = pairCount.get(key) ?? 0
    if (current !== heap.topCount) {
      // Count dropped since this entry was queued; requeue with the true count.
      if (current > 0) heap.push(current, key)
      continue
    }
    if (current < minFrequency) break
    const a = Math.floor(key / scale)
    const b = key - a * scale
    const text = tokens[a]! + tokens[b]!
    let merged = tokenIds.get(text)
    if (merged === undefined) {
      merged = tokens.length
      tokens.push(text)
      tokenIds.set(text, merged)
    }
    merges.push([a, b])

    const words = pairWords.get(key)!
    pairCount.delete(key)
    pairWords.delete(key)
    touched.clear()
    for (let k = 0; k < words.length; k++) {
      const w = words[k]!
      const s = wordStart[w]!
      const end = s + wordLen[w]!
      const freq = wordFreq[w]!
      let write = s
      let read = s
      while (read < end) {
        if (read + 1 < end && symbols[read] === a && symbols[read + 1] === b) {
          if (write > s) {
            const left = symbols[write - 1]!
            removeOccurrence(left * scale + a, freq)
            addOccurrence(left * scale + merged, w, freq)
            touched.add(left * scale + merged)
          }
          if (read + 2 < end) {
            const right = symbols[read + 2]!
            removeOccurrence(b * scale + right, freq)
            addOccurrence(merged * scale + right, w, freq)
            touched.add(merged * scale + right)
          }
          symbols[write++] = merged
          read += 2
        } else {
          symbols[write++] = symbols[read++]!
        }
      }
      wordLen[w] = write - s
    }
    // Greedy left-to-right merging leaves no adjacent (a, b); drop whatever the local updates
    // left behind for it (overlaps such as "a a a" are counted twice before the merge).
    pairCount.delete(key)
    pairWords.delete(key)
    for (const t of touched) {
      const c = pairCount.get(t)
      if (c !== undefined) heap.push(c, t)
    }
  }

  const specialIds: Record<string, number> = {}
  for (const sp of specialTokens) {
    specialIds[sp] = tokens.length
    tokens.push(sp)
  }
  const model: BpeModel = {
    vocab: tokens,
    merges,
    specialTokens: specialIds,
    pattern: patternSpec,
    endOfWordSuffix: suffix,
    lowercase,
    rankMode: 'merge',
  }
  return model
}
