/*
 * Pre-tokenizer patterns: BPE never merges across the pieces these regexes cut text into.
 */

/** GPT-2 / r50k pattern, exactly as js-tiktoken and gpt-3-encoder use it (JS `\s`). */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

/**
 * Characters Python's `str.isspace()` (and therefore `re`'s `\s` on str) accepts. JS's `\s` differs:
 * it adds U+FEFF and lacks U+001C..U+001F and U+0085, so CLIP cleaning spells the set out.
 */
export const PY_WHITESPACE = String.raw`\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`

/**
 * openai/CLIP simple_tokenizer pattern (compiled there with regex.IGNORECASE). Cleaning leaves only
 * ' ' as whitespace, so spelling `\s` as Python's set keeps e.g. U+FEFF a symbol piece as in Python.
 */
export const CLIP_PATTERN =
  String.raw`<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^${PY_WHITESPACE}\p{L}\p{N}]+`

export interface PatternSpec {
  source: string
  /** Extra flags besides the `g` and `u` that are always added. Only `i` is meaningful. */
  flags?: string
}

export function compilePattern(spec: PatternSpec): RegExp {
  const flags = new Set(['g', 'u', ...(spec.flags ?? '')])
  flags.delete('y')
  return new RegExp(spec.source, [...flags].join(''))
}
