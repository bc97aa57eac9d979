import { InvalidArgumentError } from '@tessera/errors'
import { BYTE_TO_CHAR, unicodeToBytes, utf8Encode, utf8Scratch } from './byte-alphabet.js'
import { BpeFormatError, UnknownTokenIdError } from './errors.js'
import { mergeWithHeap, mergeWord } from './merge-word.js'
import { PairTable } from './pair-table.js'
import type { TextCorpus } from './corpus.js'
import { fromGpt2, toGpt2 } from './formats/gpt2.js'
import { fromHuggingFace, toHuggingFace } from './formats/huggingface.js'
import { fromNativeJson, toNativeJson, type NativeTokenizerJson } from './formats/native-json.js'
import { fromTiktoken, toTiktoken, type TiktokenOptions, type TiktokenRanksModule } from './formats/tiktoken.js'
import { resolveModel, type BpeModel, type ResolvedBpeModel } from './model.js'
import { compilePattern } from './pretokenize.js'
import { seededRandom, type Random } from './rng.js'
import { trainModel, type TrainOptions } from './train.js'

export interface EncodeOptions {
  /**
   * BPE-dropout probability (DALL·E trains with 0.1). When set, even to 0, words are merged
   * without the cache through the dropout-capable path.
   */
  dropout?: number
  /** Seed for dropout; each call restarts the generator, so equal seeds give equal output. */
  seed?: number
  /** Random source for dropout that persists across calls (overrides `seed`). */
  random?: Random
}

/** Pre-token cache size at which the cache is dropped; bounds memory on unbounded input. */
const CACHE_LIMIT = 200_000

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

export class BPETokenizer {
  readonly model: ResolvedBpeModel
  private readonly tokenToIdMap = new Map<string, number>()
  private readonly table: PairTable
  private readonly byteIds = new Int32Array(256)
  private readonly finalByteIds = new Int32Array(256)
  private readonly pattern: RegExp
  private readonly specialPattern: RegExp | null
  private readonly specialIds: Map<string, number>
  private readonly cache = new Map<string, number[]>()
  /** Pieces with fixed ids that survive cache resets (CLIP's `<|startoftext|>` handling). */
  private readonly pinned = new Map<string, number[]>()
  private decodeBytesById: (Uint8Array | undefined)[] | null = null
  private symbols = new Int32Array(1024)

  constructor(model: BpeModel) {
    this.model = resolveModel(model)
    const { vocab, merges, specialTokens, endOfWordSuffix, rankMode } = this.model
    for (let id = 0; id < vocab.length; id++) {
      const token = vocab[id]
      if (token === undefined) continue
      if (!this.tokenToIdMap.has(token)) this.tokenToIdMap.set(token, id)
    }
    this.specialIds = new Map(Object.entries(specialTokens))
    for (const [text, id] of this.specialIds) {
      if (vocab[id] !== text) throw new BpeFormatError(`special token ${JSON.stringify(text)} is not vocab entry ${id}`)
    }

    for (let b = 0; b < 256; b++) {
      const ch = BYTE_TO_CHAR[b]!
      const id = this.tokenToIdMap.get(ch)
      if (id === undefined) throw new BpeFormatError(`vocabulary lacks the byte token for 0x${b.toString(16)}`)
      this.byteIds[b] = id
      if (endOfWordSuffix !== null) {
        const fid = this.tokenToIdMap.get(ch + endOfWordSuffix)
        if (fid === undefined) {
          throw new BpeFormatError(`vocabulary lacks the word-final byte token for 0x${b.toString(16)}`)
        }
        this.finalByteIds[b] = fid
      } else {
        this.finalByteIds[b] = id
      }
    }

    if (rankMode === 'merge') {
      this.table = new PairTable(merges.length)
      for (let rank = 0; rank < merges.length; rank++) {
        const [left, right] = merges[rank]!
        const l = vocab[left]
        const r = vocab[right]
        if (l === undefined || r === undefined) throw new BpeFormatError(`merge ${rank} refers to a missing id`)
        const result = this.tokenToIdMap.get(l + r)
        if (result === undefined) {
          throw new BpeFormatError(`merge ${rank} (${JSON.stringify(l)} ${JSON.stringify(r)}) makes a token not in the vocabulary`)
        }
        this.table.set(left, right, rank, result)
      }
    } else {
      this.table = buildTokenRankTable(vocab, this.tokenToIdMap, new Set(this.specialIds.values()))
    }

    this.pattern = compilePattern(this.model.pattern)
    this.specialPattern =
      this.specialIds.size === 0
        ? null
        : new RegExp(
            [...this.specialIds.keys()]
              .sort((a, b) => b.length - a.length)
              .map(escapeRegExp)
              .join('|'),
            'gu',
          )
  }

  /** GPT-2 files: the text (or parsed object) of `encoder.json`, and the text of `vocab.bpe`. */
  static fromGpt2(encoderJson: string | Readonly<Record<string, number>>, vocabBpe: string): BPETokenizer {
    return new BPETokenizer(fromGpt2(encoderJson, vocabBpe))
  }

  /** tiktoken ranks: `.tiktoken` text, js-tiktoken's compact text, or a js-tiktoken ranks module. */
  static fromTiktoken(ranks: string | TiktokenRanksModule, options?: TiktokenOptions): BPETokenizer {
    return new BPETokenizer(fromTiktoken(ranks, options))
  }

  /** HuggingFace `tokenizer.json` of a byte-level BPE model (text or parsed). */
  static fromHuggingFace(json: string | object): BPETokenizer {
    return new BPETokenizer(fromHuggingFace(json))
  }

  /** Our JSON format (see `toJSON`). */
  static fromJSON(json: string | NativeTokenizerJson): BPETokenizer {
    return new BPETokenizer(fromNativeJson(json))
  }

  /** Trains on a string, or lines from a (sync or async) iterable or ReadableStream. */
  static async train(corpus: TextCorpus, options: TrainOptions): Promise<BPETokenizer> {
    return new BPETokenizer(await trainModel(corpus, options))
  }

  /** Our JSON format; `JSON.stringify(tokenizer)` writes it and `fromJSON` reads it back. */
  toJSON(): NativeTokenizerJson {
    return toNativeJson(this.model)
  }

  toGpt2(): { encoderJson: string; vocabBpe: string } {
    return toGpt2(this.model)
  }

  /** `.tiktoken` text; the same tokenizer only if ids follow merge order (true for trained ones). */
  toTiktoken(): string {
    return toTiktoken(this.model)
  }

  toHuggingFace(): object {
    return toHuggingFace(this.model)
  }

  /** Number of ids (highest id + 1). */
  get vocabSize(): number {
    return this.model.vocab.length
  }

  tokenToId(token: string): number | undefined {
    return this.specialIds.get(token) ?? this.tokenToIdMap.get(token)
  }

  idToToken(id: number): string | undefined {
    return this.model.vocab[id]
  }

  get specialTokens(): ReadonlyMap<string, number> {
    return this.specialIds
  }

  /** Encodes text; special tokens in the text become their ids. */
  encode(text: string, options?: EncodeOptions): number[] {
    const special = this.specialPattern
    if (special === null) return this.encodeOrdinary(text, options)
    const out: number[] = []
    const random = makeRandom(options)
    let start = 0
    special.lastIndex = 0
    for (let m = special.exec(text); m !== null; m = special.exec(text)) {
      this.encodeInto(text.slice(start, m.index), out, options, random)
      out.push(this.specialIds.get(m[0])!)
      start = m.index + m[0].length
    }
    this.encodeInto(start === 0 ? text : text.slice(start), out, options, random)
    return out
  }

  /** Encodes text treating special-token text as ordinary text (tiktoken's encode_ordinary). */
  encodeOrdinary(text: string, options?: EncodeOptions): number[] {
    const out: number[] = []
    this.encodeInto(text, out, options, makeRandom(options))
    return out
  }

  encodeBatch(texts: readonly string[], options?: EncodeOptions): number[][] {
    // One generator for the batch so that equal texts in a batch get independent dropout.
    const random = options?.dropout !== undefined ? makeRandom(options) : null
    return texts.map((t) => this.encode(t, random ? { dropout: options!.dropout, random } : options))
  }

  private encodeInto(text: string, out: number[], options: EncodeOptions | undefined, random: Random | null): void {
    if (text.length === 0) return
    if (this.model.lowercase) text = text.toLowerCase()
    if (this.model.addPrefixSpace && !/^\s/u.test(text)) text = ' ' + text
    const pieces = text.match(this.pattern)
    if (pieces === null) return
    if (options?.dropout !== undefined) {
      const p = options.dropout
      if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`dropout must be in [0, 1], got ${p}`)
      for (let i = 0; i < pieces.length; i++) {
        const piece = pieces[i]!
        const fixed = this.pinned.get(piece)
        if (fixed !== undefined) {
          for (let k = 0; k < fixed.length; k++) out.push(fixed[k]!)
          continue
        }
        const n = this.loadSymbols(piece)
        const m = mergeWithHeap(this.symbols, n, this.table, p, random)
        for (let k = 0; k < m; k++) out.push(this.symbols[k]!)
      }
      return
    }
    const cache = this.cache
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!
      let ids = cache.get(piece)
      if (ids === undefined) {
        ids = this.encodePiece(piece)
        if (cache.size >= CACHE_LIMIT) this.clearCache()
        cache.set(piece, ids)
      }
      if (ids.length === 1) out.push(ids[0]!)
      else for (let k = 0; k < ids.length; k++) out.push(ids[k]!)
    }
  }

  /** Byte symbols of one pre-token into `this.symbols`; returns their count. */
  private loadSymbols(piece: string): number {
    const bytes = utf8Scratch(piece)
    const n = bytes.length
    if (this.symbols.length < n) this.symbols = new Int32Array(Math.max(n, this.symbols.length * 2))
    const symbols = this.symbols
    const byteIds = this.byteIds
    for (let i = 0; i < n; i++) symbols[i] = byteIds[bytes[i]!]!
    if (n > 0) symbols[n - 1] = this.finalByteIds[bytes[n - 1]!]!
    return n
  }

  private encodePiece(piece: string): number[] {
    const n = this.loadSymbols(piece)
    if (this.model.ignoreMerges) {
      let form = ''
      const bytes = utf8Scratch(piece)
      for (let i = 0; i < n; i++) form += BYTE_TO_CHAR[bytes[i]!]
      const whole = this.tokenToIdMap.get(form + (this.model.endOfWordSuffix ?? ''))
      if (whole !== undefined) return [whole]
    }
    const m = mergeWord(this.symbols, n, this.table)
    return Array.from(this.symbols.subarray(0, m))
  }

  /** Forgets cached pre-token encodings (they are rebuilt on demand). */
  clearCache(): void {
    this.cache.clear()
    for (const [k, v] of this.pinned) this.cache.set(k, v)
  }

  /** Makes a pre-token always encode to `ids`, bypassing BPE (used for CLIP's special tokens). */
  pinPiece(piece: string, ids: number[]): void {
    this.pinned.set(piece, ids)
    this.cache.set(piece, ids)
  }

  /** Raw bytes of a sequence of ids. Word-end suffixes are kept as their literal bytes. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const table = (this.decodeBytesById ??= this.buildDecodeTable())
    let total = 0
    for (let i = 0; i < ids.length; i++) {
      const b = table[ids[i]!]
      if (b === undefined) throw new UnknownTokenIdError(ids[i]!)
      total += b.length
    }
    const out = new Uint8Array(total)
    let at = 0
    for (let i = 0; i < ids.length; i++) {
      const b = table[ids[i]!]!
      out.set(b, at)
      at += b.length
    }
    return out
  }

  /**
   * Text of a sequence of ids; invalid UTF-8 becomes U+FFFD. With a word-end suffix the suffix
   * becomes a space, as CLIP's decode does.
   */
  decode(ids: ArrayLike<number>): string {
    const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(this.decodeBytes(ids))
    const suffix = this.model.endOfWordSuffix
    return suffix === null ? text : text.split(suffix).join(' ')
  }

  private buildDecodeTable(): (Uint8Array | undefined)[] {
    const { vocab } = this.model
    const table: (Uint8Array | undefined)[] = new Array(vocab.length)
    const special = new Set(this.specialIds.values())
    const suffix = this.model.endOfWordSuffix
    for (let id = 0; id < vocab.length; id++) {
      const token = vocab[id]
      if (token === undefined) continue
      if (special.has(id)) {
        table[id] = utf8Encode(token)
        continue
      }
      let stem = token
      let tail = ''
      if (suffix !== null && token.endsWith(suffix) && token.length > suffix.length) {
        stem = token.slice(0, -suffix.length)
        tail = suffix
      }
      const bytes = unicodeToBytes(stem)
      if (bytes === null) {
        // Not a byte-level token (e.g. an added token in a HuggingFace file): its text is literal.
        table[id] = utf8Encode(token)
      } else if (tail === '') {
        table[id] = bytes
      } else {
        const t = utf8Encode(tail)
        const both = new Uint8Array(bytes.length + t.length)
        both.set(bytes)
        both.set(t, bytes.length)
        table[id] = both
      }
    }
    return table
  }
}

function makeRandom(options: EncodeOptions | undefined): Random | null {
  if (options?.dropout === undefined) return null
  if (options.random) return options.random
  return options.seed !== undefined ? seededRandom(options.seed) : Math.random
}

/**
 * tiktoken semantics: a pair merges if its concatenation is a token, ranked by that token's id.
 * Every split of every token into two tokens is registered so that the greedy lowest-rank
 * merge sees exactly the candidates tiktoken's byte_pair_merge sees.
 */
function buildTokenRankTable(
  vocab: readonly (string | undefined)[],
  ids: Map<string, number>,
  specialIds: Set<number>,
): PairTable {
  const table = new PairTable(vocab.length * 4)
  for (let id = 0; id < vocab.length; id++) {
    const token = vocab[id]
    if (token === undefined || token.length < 2 || specialIds.has(id)) continue
    for (let cut = 1; cut < token.length; cut++) {
      const left = ids.get(token.slice(0, cut))
      if (left === undefined) continue
      const right = ids.get(token.slice(cut))
      if (right === undefined) continue
      table.set(left, right, id, id)
    }
  }
  return table
}
