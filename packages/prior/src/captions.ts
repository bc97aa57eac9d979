import type { TextTokenizer } from '@tessera/plugins'
import { PriorInputError } from './errors.js'

export interface CaptionOptions {
  /** Cut captions longer than the prior's text length (default: a PriorInputError). */
  truncate?: boolean
  /** BPE-dropout probability (training only; DALL·E used 0.1). */
  dropout?: number
  /** Seed of this caption's dropout draws. */
  seed?: number
}

/** A caption as the prior's text input: exactly `textLength` ids, padded with `padId`. */
export function captionIds(tokenizer: Pick<TextTokenizer, 'encode'>, caption: string, textLength: number, padId: number, opts: CaptionOptions = {}): Int32Array {
  const ids = tokenizer.encode(caption, opts.dropout ? { dropout: opts.dropout, seed: opts.seed } : undefined)
  if (ids.length > textLength && !opts.truncate) {
    throw new PriorInputError(`the caption "${caption}" is ${ids.length} tokens; the prior takes at most ${textLength} (shorten it, or truncate)`)
  }
  const out = new Int32Array(textLength).fill(padId)
  out.set(ids.slice(0, textLength))
  return out
}
