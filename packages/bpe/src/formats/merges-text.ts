import { BpeFormatError } from '../errors.js'

/**
 * Parses a merges file (GPT-2 `vocab.bpe`, CLIP `bpe_simple_vocab_16e6.txt`): an optional
 * `#version` header, then one merge per line as two tokens separated by a single space.
 */
export function parseMergesText(text: string): [string, string][] {
  const lines = text.split('\n')
  const merges: [string, string][] = []
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue
    const parts = line.split(' ')
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new BpeFormatError(`merges line ${i + 1} is not two space-separated tokens: ${JSON.stringify(line.slice(0, 60))}`)
    }
    merges.push([parts[0]!, parts[1]!])
  }
  return merges
}

/** Writes merges in the same format, with GPT-2's header line. */
export function formatMergesText(merges: readonly (readonly [string, string])[]): string {
  return '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n'
}

/** Resolves string merges to id pairs against a vocabulary. */
export function mergesToIds(
  merges: readonly (readonly [string, string])[],
  ids: ReadonlyMap<string, number>,
): [number, number][] {
  return merges.map(([a, b], i) => {
    const l = ids.get(a)
    const r = ids.get(b)
    if (l === undefined || r === undefined) {
      throw new BpeFormatError(`merge ${i} (${JSON.stringify(a)} ${JSON.stringify(b)}) uses a token not in the vocabulary`)
    }
    return [l, r]
  })
}
