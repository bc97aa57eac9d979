import { bytesToUnicode, unicodeToBytes } from '../byte-alphabet.js'
import { BpeFormatError } from '../errors.js'
import { GPT2_PATTERN, type PatternSpec } from '../pretokenize.js'
import type { BpeModel, ResolvedBpeModel } from '../model.js'

function base64ToBytes(b64: string): Uint8Array {
  let bin: string
  try {
    bin = atob(b64)
  } catch {
    throw new BpeFormatError(`not base64: ${JSON.stringify(b64.slice(0, 40))}`)
  }
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!)
  return btoa(bin)
}

/**
 * Parses tiktoken ranks: the `.tiktoken` file format (`<base64 token> <rank>` per line) or
 * js-tiktoken's compact form (`<anything> <first rank> <base64> <base64> ...` per line, ranks
 * consecutive), which is what `js-tiktoken/ranks/gpt2` holds in `bpe_ranks`.
 * Returns rank -> token bytes.
 */
export function parseTiktokenRanks(text: string): Uint8Array[] {
  const byRank: Uint8Array[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const fields = line.split(' ')
    const put = (rank: number, b64: string): void => {
      if (byRank[rank] !== undefined) throw new BpeFormatError(`rank ${rank} appears twice`)
      byRank[rank] = base64ToBytes(b64)
    }
    if (fields.length === 2) {
      const rank = Number(fields[1])
      if (!Number.isInteger(rank) || rank < 0) throw new BpeFormatError(`line ${i + 1}: bad rank ${JSON.stringify(fields[1])}`)
      put(rank, fields[0]!)
    } else if (fields.length > 2) {
      const first = Number(fields[1])
      if (!Number.isInteger(first) || first < 0) throw new BpeFormatError(`line ${i + 1}: bad offset ${JSON.stringify(fields[1])}`)
      for (let k = 2; k < fields.length; k++) put(first + k - 2, fields[k]!)
    } else {
      throw new BpeFormatError(`line ${i + 1} is not "<base64> <rank>"`)
    }
  }
  return byRank
}

/** The shape of js-tiktoken's rank modules (`import ranks from 'js-tiktoken/ranks/gpt2'`). */
export interface TiktokenRanksModule {
  pat_str: string
  special_tokens: Record<string, number>
  bpe_ranks: string
}

export interface TiktokenOptions {
  /** Pre-tokenizer source; default GPT-2's. */
  pattern?: string
  specialTokens?: Record<string, number>
}

/**
 * A tokenizer from tiktoken ranks. Such files have no merges list: tiktoken merges whichever
 * adjacent pair forms the lowest-ranked token and takes a whole pre-token directly when it is a
 * token, which the `token` rank mode and `ignoreMerges` reproduce.
 */
export function fromTiktoken(ranks: string | TiktokenRanksModule, options: TiktokenOptions = {}): BpeModel {
  const module = typeof ranks === 'string' ? null : ranks
  const byRank = parseTiktokenRanks(module ? module.bpe_ranks : (ranks as string))
  const vocab: (string | undefined)[] = byRank.map((b) => (b === undefined ? undefined : bytesToUnicode(b)))
  const specialTokens = { ...(module?.special_tokens ?? {}), ...(options.specialTokens ?? {}) }
  for (const [text, id] of Object.entries(specialTokens)) {
    if (vocab[id] !== undefined && vocab[id] !== text) throw new BpeFormatError(`special token id ${id} is also a rank`)
    vocab[id] = text
  }
  const source = options.pattern ?? module?.pat_str ?? GPT2_PATTERN
  const pattern: PatternSpec = { source }
  return { vocab, merges: [], specialTokens, pattern, rankMode: 'token', ignoreMerges: true }
}

/** Writes `.tiktoken` text (`<base64> <rank>` lines) for the non-special tokens. */
export function toTiktoken(model: ResolvedBpeModel): string {
  const special = new Set(Object.values(model.specialTokens))
  const lines: string[] = []
  model.vocab.forEach((token, id) => {
    if (token === undefined || special.has(id)) return
    const bytes = unicodeToBytes(token)
    if (bytes === null) throw new BpeFormatError(`token ${id} is not byte-level; tiktoken cannot hold it`)
    lines.push(`${bytesToBase64(bytes)} ${id}`)
  })
  return lines.join('\n') + '\n'
}
