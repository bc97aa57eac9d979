import { BPETokenizer, CLIP_END_OF_TEXT, CLIP_PATTERN, CLIP_START_OF_TEXT, CLIP_WORD_END, ClipTokenizer, type NativeTokenizerJson } from '@tessera/bpe'
import { ClipConfigError } from './errors.js'

/**
 * What CLIP needs of a tokenizer: `clip.tokenize` rows (start token, text, end token, zero
 * padding) whose end token is the vocabulary's highest id. `@tessera/bpe`'s ClipTokenizer is
 * one; so is a ClipTokenizer over a smaller BPE trained on your captions (`trainCaptionTokenizer`).
 */
export interface ClipTextTokenizer {
  readonly vocabSize: number
  readonly endOfTextId: number
  tokenize(texts: string | readonly string[], options?: { contextLength?: number; truncate?: boolean }): Int32Array[]
}

export interface CaptionTokenizerOptions {
  /** Ids in all: 512 byte symbols (plain and word-final) + merges + the two special tokens. */
  vocabSize: number
  /** Pairs seen fewer times are never merged (default 2). */
  minFrequency?: number
}

/**
 * A CLIP-style byte-level BPE trained on `captions` (CLIP's cleaning, pre-tokenizer and `</w>`
 * word ends), with <|startoftext|> and <|endoftext|> as its last two ids, wrapped as a
 * ClipTokenizer: a CLIP trained on a narrow caption set needs a few hundred merges, not 49k.
 */
export async function trainCaptionTokenizer(captions: Iterable<string>, opts: CaptionTokenizerOptions): Promise<ClipTokenizer> {
  if (!(opts.vocabSize >= 514)) throw new ClipConfigError(`a caption tokenizer needs vocabSize >= 514 (512 byte symbols + start and end tokens), got ${opts.vocabSize}`)
  const lines = [...captions].map((c) => c.toLowerCase())
  const bpe = await BPETokenizer.train(lines, {
    vocabSize: opts.vocabSize,
    minFrequency: opts.minFrequency ?? 2,
    specialTokens: [CLIP_START_OF_TEXT, CLIP_END_OF_TEXT],
    lowercase: true,
    endOfWordSuffix: CLIP_WORD_END,
    pattern: { source: CLIP_PATTERN, flags: 'i' },
  })
  return new ClipTokenizer(bpe)
}

/** A ClipTokenizer over a BPE saved with `toJSON()` (e.g. a model directory's tokenizer.json). */
export function clipTokenizerFromJSON(json: string | NativeTokenizerJson): ClipTokenizer {
  return new ClipTokenizer(BPETokenizer.fromJSON(json))
}

/** Checks that a tokenizer's rows can drive a model: ids inside the vocabulary, end token highest. */
export function checkTokenizer(tokenizer: ClipTextTokenizer, vocabSize: number): void {
  if (tokenizer.vocabSize > vocabSize) throw new ClipConfigError(`the tokenizer has ${tokenizer.vocabSize} ids, the model's vocabulary ${vocabSize}`)
  if (tokenizer.endOfTextId !== tokenizer.vocabSize - 1) {
    throw new ClipConfigError(`the tokenizer's end token is id ${tokenizer.endOfTextId}, not its highest (${tokenizer.vocabSize - 1}): CLIP finds the end of a text as the row's highest id`)
  }
}

/** Token rows for `texts` as one i32 array [N·contextLength] (long texts truncated, as clip.tokenize(truncate=True)). */
export function tokenRows(tokenizer: ClipTextTokenizer, texts: readonly string[], contextLength: number): Int32Array {
  const rows = tokenizer.tokenize(texts, { contextLength, truncate: true })
  const out = new Int32Array(texts.length * contextLength)
  rows.forEach((r, i) => out.set(r, i * contextLength))
  return out
}
