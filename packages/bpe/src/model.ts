import { GPT2_PATTERN, type PatternSpec } from './pretokenize.js'

/**
 * How pair ranks are defined.
 * - `merge`: rank = position in the merges list (GPT-2 vocab.bpe, CLIP, HuggingFace, trained).
 * - `token`: rank = id of the merged token, and any split of a token into two tokens is a merge
 *   (tiktoken rank files, which carry no merges list).
 */
export type RankMode = 'merge' | 'token'

/** Everything that defines a byte-level BPE tokenizer; what our JSON format stores. */
export interface BpeModel {
  /** id -> token in byte-level form (GPT-2 `bytes_to_unicode` characters); holes allowed. */
  vocab: readonly (string | undefined)[]
  /** Merges in rank order as pairs of token ids. Unused for merging when rankMode is `token`. */
  merges: readonly (readonly [number, number])[]
  /** Literal text -> id of tokens that bypass BPE. Their ids must be in `vocab` too. */
  specialTokens?: Readonly<Record<string, number>>
  pattern?: PatternSpec
  /** Marks the last symbol of each pre-token (CLIP: `</w>`). */
  endOfWordSuffix?: string | null
  /** Lower-case text before pre-tokenizing (trainer option, kept so encode matches training). */
  lowercase?: boolean
  rankMode?: RankMode
  /** A pre-token that is itself a token is emitted directly (tiktoken; HF `ignore_merges`). */
  ignoreMerges?: boolean
  /** HuggingFace ByteLevel `add_prefix_space`. */
  addPrefixSpace?: boolean
}

/** A BpeModel with every default filled in. */
export interface ResolvedBpeModel {
  readonly vocab: readonly (string | undefined)[]
  readonly merges: readonly (readonly [number, number])[]
  readonly specialTokens: Readonly<Record<string, number>>
  readonly pattern: PatternSpec
  readonly endOfWordSuffix: string | null
  readonly lowercase: boolean
  readonly rankMode: RankMode
  readonly ignoreMerges: boolean
  readonly addPrefixSpace: boolean
}

export function resolveModel(model: BpeModel): ResolvedBpeModel {
  return {
    vocab: model.vocab,
    merges: model.merges,
    specialTokens: model.specialTokens ?? {},
    pattern: model.pattern ?? { source: GPT2_PATTERN },
    endOfWordSuffix: model.endOfWordSuffix ?? null,
    lowercase: model.lowercase ?? false,
    rankMode: model.rankMode ?? 'merge',
    ignoreMerges: model.ignoreMerges ?? false,
    addPrefixSpace: model.addPrefixSpace ?? false,
  }
}
