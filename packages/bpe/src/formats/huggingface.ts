import { BpeFormatError } from '../errors.js'
import { GPT2_PATTERN, type PatternSpec } from '../pretokenize.js'
import type { BpeModel, ResolvedBpeModel } from '../model.js'
import { vocabFromObject } from './gpt2.js'
import { mergesToIds } from './merges-text.js'

/*
 * HuggingFace `tokenizer.json` with a BPE model and byte-level pre-tokenization (GPT-2, RoBERTa,
 * Llama 3 style). Only the pieces this tokenizer can reproduce are accepted; anything else is a
 * BpeFormatError rather than a silently different tokenization.
 */

interface HfComponent {
  type: string
  [k: string]: unknown
}

interface HfTokenizerJson {
  version?: string
  added_tokens?: { id: number; content: string; special?: boolean }[]
  normalizer?: HfComponent | null
  pre_tokenizer?: HfComponent | null
  model: HfComponent & {
    vocab: Record<string, number>
    merges: (string | [string, string])[]
    end_of_word_suffix?: string | null
    continuing_subword_prefix?: string | null
    ignore_merges?: boolean
    byte_fallback?: boolean
  }
}

function parseNormalizer(n: HfComponent | null | undefined): { lowercase: boolean } {
  if (!n) return { lowercase: false }
  if (n.type === 'Lowercase') return { lowercase: true }
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
    const parts = n.normalizers as HfComponent[]
    if (parts.length === 0) return { lowercase: false }
    if (parts.length === 1) return parseNormalizer(parts[0])
  }
  throw new BpeFormatError(`unsupported normalizer ${JSON.stringify(n.type)}`)
}

function parsePreTokenizer(p: HfComponent | null | undefined): { pattern: PatternSpec; addPrefixSpace: boolean } {
  if (!p) throw new BpeFormatError('a byte-level BPE tokenizer.json needs a pre_tokenizer')
  if (p.type === 'ByteLevel') {
    if (p.use_regex === false) throw new BpeFormatError('ByteLevel without regex and no Split is not supported')
    return { pattern: { source: GPT2_PATTERN }, addPrefixSpace: p.add_prefix_space === true }
  }
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) {
    const [split, byteLevel, ...rest] = p.pretokenizers as HfComponent[]
    const regex = (split?.pattern as { Regex?: string } | undefined)?.Regex
    if (
      rest.length === 0 &&
      split?.type === 'Split' &&
      typeof regex === 'string' &&
      split.behavior === 'Isolated' &&
      split.invert !== true &&
      byteLevel?.type === 'ByteLevel' &&
      byteLevel.use_regex === false
    ) {
      // A leading (?i) is how we write case-insensitive patterns; other inline flags JS lacks.
      const caseless = regex.startsWith('(?i)')
      const source = caseless ? regex.slice(4) : regex
      if (/\(\?[a-z]/.test(source)) throw new BpeFormatError('inline regex flags are not supported')
      return { pattern: { source, flags: caseless ? 'i' : '' }, addPrefixSpace: byteLevel.add_prefix_space === true }
    }
  }
  throw new BpeFormatError(`unsupported pre_tokenizer ${JSON.stringify(p.type)}`)
}

export function fromHuggingFace(input: string | object): BpeModel {
  let json: HfTokenizerJson
  try {
    json = (typeof input === 'string' ? JSON.parse(input) : input) as HfTokenizerJson
  } catch (e) {
    throw new BpeFormatError(`tokenizer.json does not parse: ${(e as Error).message}`)
  }
  const model = json?.model
  if (!model || model.type !== 'BPE') throw new BpeFormatError(`model type must be BPE, got ${JSON.stringify(model?.type)}`)
  if (model.continuing_subword_prefix) throw new BpeFormatError('continuing_subword_prefix is not supported')
  if (typeof model.vocab !== 'object' || !Array.isArray(model.merges)) throw new BpeFormatError('model.vocab / model.merges missing')
  const vocab = vocabFromObject(model.vocab)
  const specialTokens: Record<string, number> = {}
  for (const t of json.added_tokens ?? []) {
    if (vocab[t.id] !== undefined && vocab[t.id] !== t.content) {
      throw new BpeFormatError(`added token ${JSON.stringify(t.content)} clashes with vocab id ${t.id}`)
    }
    vocab[t.id] = t.content
    specialTokens[t.content] = t.id
  }
  const ids = new Map<string, number>()
  vocab.forEach((t, i) => t !== undefined && !ids.has(t) && ids.set(t, i))
  const mergePairs = model.merges.map((m, i): [string, string] => {
    if (Array.isArray(m) && m.length === 2) return [m[0], m[1]]
    if (typeof m === 'string') {
      const parts = m.split(' ')
      if (parts.length === 2) return [parts[0]!, parts[1]!]
    }
    throw new BpeFormatError(`merge ${i} is malformed: ${JSON.stringify(m)}`)
  })
  const { lowercase } = parseNormalizer(json.normalizer)
  const { pattern, addPrefixSpace } = parsePreTokenizer(json.pre_tokenizer)
  return {
    vocab,
    merges: mergesToIds(mergePairs, ids),
    specialTokens,
    pattern,
    lowercase,
    addPrefixSpace,
    endOfWordSuffix: model.end_of_word_suffix || null,
    ignoreMerges: model.ignore_merges === true,
  }
}

/** A tokenizer.json that HuggingFace `tokenizers` can load (BPE model, byte-level pipeline). */
export function toHuggingFace(m: ResolvedBpeModel): object {
  if (m.rankMode !== 'merge') throw new BpeFormatError('a token-ranked (tiktoken) tokenizer has no merges list to write')
  const special = Object.entries(m.specialTokens)
  const vocab: Record<string, number> = {}
  m.vocab.forEach((t, id) => {
    if (t !== undefined) vocab[t] = id
  })
  const byteLevel = { type: 'ByteLevel', add_prefix_space: m.addPrefixSpace, trim_offsets: true, use_regex: false }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: m.lowercase ? { type: 'Lowercase' } : null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: (m.pattern.flags?.includes('i') ? '(?i)' : '') + m.pattern.source }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: m.endOfWordSuffix,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: m.ignoreMerges,
      vocab,
      merges: m.merges.map(([a, b]) => [m.vocab[a]!, m.vocab[b]!]),
    },
  }
}
