import { BpeFormatError } from '../errors.js'
import type { BpeModel, RankMode, ResolvedBpeModel } from '../model.js'

export const NATIVE_FORMAT = 'tessera-bpe'
export const NATIVE_VERSION = 1

/** Our JSON format: the BpeModel with merges as a flat id list (compact, no token escaping). */
export interface NativeTokenizerJson {
  format: typeof NATIVE_FORMAT
  version: typeof NATIVE_VERSION
  vocab: (string | null)[]
  /** [left0, right0, left1, right1, ...] in rank order. */
  merges: number[]
  specialTokens: Record<string, number>
  pattern: { source: string; flags?: string }
  endOfWordSuffix: string | null
  lowercase: boolean
  rankMode: RankMode
  ignoreMerges: boolean
  addPrefixSpace: boolean
}

export function toNativeJson(m: ResolvedBpeModel): NativeTokenizerJson {
  return {
    format: NATIVE_FORMAT,
    version: NATIVE_VERSION,
    vocab: Array.from(m.vocab, (t) => t ?? null),
    merges: m.merges.flatMap(([a, b]) => [a, b]),
    specialTokens: { ...m.specialTokens },
    pattern: { ...m.pattern },
    endOfWordSuffix: m.endOfWordSuffix,
    lowercase: m.lowercase,
    rankMode: m.rankMode,
    ignoreMerges: m.ignoreMerges,
    addPrefixSpace: m.addPrefixSpace,
  }
}

function fail(what: string): never {
  throw new BpeFormatError(`not a ${NATIVE_FORMAT} v${NATIVE_VERSION} tokenizer: ${what}`)
}

export function fromNativeJson(input: string | NativeTokenizerJson): BpeModel {
  let json: NativeTokenizerJson
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input) as NativeTokenizerJson
    } catch (e) {
      throw new BpeFormatError(`tokenizer JSON does not parse: ${(e as Error).message}`)
    }
  } else {
    json = input
  }
  if (json === null || typeof json !== 'object') fail('not an object')
  if (json.format !== NATIVE_FORMAT) fail(`format is ${JSON.stringify(json.format)}`)
  if (json.version !== NATIVE_VERSION) fail(`version is ${JSON.stringify(json.version)}`)
  if (!Array.isArray(json.vocab) || !json.vocab.every((t) => t === null || typeof t === 'string')) fail('vocab')
  if (!Array.isArray(json.merges) || json.merges.length % 2 !== 0 || !json.merges.every(Number.isInteger)) fail('merges')
  if (typeof json.pattern?.source !== 'string') fail('pattern')
  if (json.rankMode !== 'merge' && json.rankMode !== 'token') fail('rankMode')
  const merges: [number, number][] = []
  for (let i = 0; i < json.merges.length; i += 2) merges.push([json.merges[i]!, json.merges[i + 1]!])
  const model: BpeModel = {
    vocab: json.vocab.map((t) => t ?? undefined),
    merges,
    specialTokens: json.specialTokens ?? {},
    pattern: json.pattern,
    endOfWordSuffix: json.endOfWordSuffix ?? null,
    lowercase: !!json.lowercase,
    rankMode: json.rankMode,
    ignoreMerges: !!json.ignoreMerges,
    addPrefixSpace: !!json.addPrefixSpace,
  }
  return model
}
