import type { TextCorpus } from './corpus.js'
import { BPETokenizer } from './tokenizer.js'
import type { TrainOptions } from './train.js'

export { BPETokenizer, type EncodeOptions } from './tokenizer.js'

/** Trains a byte-level BPE tokenizer (same as `BPETokenizer.train`). */
export function train(corpus: TextCorpus, options: TrainOptions): Promise<BPETokenizer> {
  return BPETokenizer.train(corpus, options)
}
export { ClipTokenizer, type TokenizeOptions } from './clip-tokenizer.js'
export type { BpeModel, RankMode, ResolvedBpeModel } from './model.js'
export type { TrainOptions } from './train.js'
export type { TextCorpus } from './corpus.js'
export type { ClipMergesSource } from './clip-merges-source.js'
export { loadClipMergesText } from './clip-merges-source.js'
export type { NativeTokenizerJson } from './formats/native-json.js'
export type { TiktokenOptions, TiktokenRanksModule } from './formats/tiktoken.js'
export { parseTiktokenRanks } from './formats/tiktoken.js'
export { parseMergesText, formatMergesText } from './formats/merges-text.js'
export {
  CLIP_END_OF_TEXT,
  CLIP_MERGE_COUNT,
  CLIP_START_OF_TEXT,
  CLIP_WORD_END,
  clipModelFromMerges,
  stripMergesPrefix,
} from './formats/clip-vocab.js'
export { clipCleanText } from './clip-clean.js'
export { htmlUnescape } from './html-unescape.js'
export { CLIP_PATTERN, GPT2_PATTERN, type PatternSpec } from './pretokenize.js'
export { BYTE_ORDER, BYTE_TO_CHAR, bytesToUnicode, unicodeToBytes } from './byte-alphabet.js'
export { seededRandom, type Random } from './rng.js'
export { TesseraError, isTesseraError, TESSERA_ERROR_BRAND, InvalidArgumentError, type TesseraErrorOptions } from '@tessera/errors'
export {
  BpeError,
  BpeFormatError,
  ContextLengthExceededError,
  UnknownTokenIdError,
  VocabularyNotFoundError,
} from './errors.js'
