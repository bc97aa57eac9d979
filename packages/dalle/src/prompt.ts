import type { BPETokenizer } from '@tessera/bpe'
import type { ResolvedPriorConfig } from '@tessera/prior'
import { PromptTooLongError } from './errors.js'

/** A prompt as the prior's text input: exactly textLength ids, padded with padId (the tokenizer's pad token). */
export function encodePrompt(tokenizer: Pick<BPETokenizer, 'encode'>, prompt: string, config: Pick<ResolvedPriorConfig, 'textLength' | 'padId'>, truncate: boolean): Int32Array {
  const ids = tokenizer.encode(prompt)
  if (ids.length > config.textLength && !truncate) throw new PromptTooLongError(ids.length, config.textLength)
  const out = new Int32Array(config.textLength).fill(config.padId)
  out.set(ids.slice(0, config.textLength))
  return out
}
