import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { generateText } from '../bench/corpus.mjs'
import {
  BpeError,
  BpeFormatError,
  BPETokenizer,
  ClipTokenizer,
  InvalidArgumentError,
  TesseraError,
  UnknownTokenIdError,
  VocabularyNotFoundError,
  htmlUnescape,
  parseMergesText,
  parseTiktokenRanks,
  stripMergesPrefix,
} from '../src/index.js'
import { gpt2Files, gpt2Tokenizer } from './helpers.js'

const text = generateText(60_000, 31)

describe('HuggingFace tokenizer.json', () => {
  const gpt2 = gpt2Tokenizer()
  const { encoderJson, vocabBpe } = gpt2Files()
  const mergeLines = vocabBpe.split('\n').slice(1).filter((l) => l !== '')

  it('loads a GPT-2 style file (ByteLevel pre-tokenizer, string merges)', () => {
    const hf = {
      version: '1.0',
      added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', vocab: JSON.parse(encoderJson), merges: mergeLines },
    }
    const tok = BPETokenizer.fromHuggingFace(JSON.stringify(hf))
    expect(tok.encode(text)).toEqual(gpt2.encode(text))
  })

  it('loads pair-array merges and honours add_prefix_space', () => {
    const hf = {
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, use_regex: true },
      model: { type: 'BPE', vocab: JSON.parse(encoderJson), merges: mergeLines.map((l) => l.split(' ')) },
    }
    const tok = BPETokenizer.fromHuggingFace(hf)
    expect(tok.encode('hello world')).toEqual(gpt2.encode(' hello world'))
    expect(tok.encode(' hello')).toEqual(gpt2.encode(' hello'))
  })

  it('writes a file that loads back to the same tokenizer', () => {
    const back = BPETokenizer.fromHuggingFace(JSON.stringify(gpt2.toHuggingFace()))
    expect(back.encode(text)).toEqual(gpt2.encode(text))
    expect(back.model.merges).toEqual(gpt2.model.merges)
  })

  it('rejects what it cannot reproduce', () => {
    const vocab = JSON.parse(encoderJson)
    expect(() => BPETokenizer.fromHuggingFace({ model: { type: 'WordPiece', vocab: {} } })).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromHuggingFace('{not json')).toThrow(BpeFormatError)
    expect(() =>
      BPETokenizer.fromHuggingFace({
        normalizer: { type: 'NFKD' },
        pre_tokenizer: { type: 'ByteLevel' },
        model: { type: 'BPE', vocab, merges: [] },
      }),
    ).toThrow(/normalizer/)
    expect(() =>
      BPETokenizer.fromHuggingFace({ pre_tokenizer: { type: 'ByteLevel' }, model: { type: 'BPE', vocab, merges: ['a b c'] } }),
    ).toThrow(BpeFormatError)
  })
})

describe('our JSON format', () => {
  it('round-trips GPT-2, tiktoken-ranked and CLIP tokenizers', async () => {
    const gpt2 = gpt2Tokenizer()
    const back = BPETokenizer.fromJSON(JSON.stringify(gpt2))
    expect(back.encode(text)).toEqual(gpt2.encode(text))
    const ranked = BPETokenizer.fromTiktoken(gpt2.toTiktoken(), { specialTokens: { '<|endoftext|>': 50256 } })
    expect(BPETokenizer.fromJSON(JSON.stringify(ranked)).encode(text)).toEqual(gpt2.encode(text))
    const clip = await ClipTokenizer.load()
    const clipBack = new ClipTokenizer(BPETokenizer.fromJSON(JSON.stringify(clip.bpe)))
    expect(clipBack.tokenize(text.slice(0, 300), { truncate: true })).toEqual(clip.tokenize(text.slice(0, 300), { truncate: true }))
  })

  it('rejects other JSON with BpeFormatError', () => {
    expect(() => BPETokenizer.fromJSON('{')).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromJSON('{"format":"other"}')).toThrow(BpeFormatError)
    const good = gpt2Tokenizer().toJSON()
    expect(() => BPETokenizer.fromJSON({ ...good, version: 2 } as never)).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromJSON({ ...good, merges: [1, 2, 3] })).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromJSON({ ...good, merges: [0, 999999] })).toThrow(BpeFormatError)
  })
})

describe('typed errors for malformed GPT-2 / tiktoken / CLIP files', () => {
  const { encoderJson, vocabBpe } = gpt2Files()

  it('GPT-2', () => {
    expect(() => BPETokenizer.fromGpt2('{oops', vocabBpe)).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromGpt2('[1,2]', vocabBpe)).toThrow(BpeFormatError)
    expect(() => BPETokenizer.fromGpt2(encoderJson, '#version: 0.2\nĠ t x\n')).toThrow(/not two space-separated/)
    expect(() => BPETokenizer.fromGpt2(encoderJson, '#version: 0.2\nĠ nope\n')).toThrow(/not in the vocabulary/)
    expect(() => BPETokenizer.fromGpt2('{"a": 0}', '#version: 0.2\n')).toThrow(/lacks the byte token/)
    // A merge whose result is missing from the vocabulary.
    expect(() => BPETokenizer.fromGpt2(encoderJson, '#version: 0.2\nĠ Ġ\n')).toThrow(/not in the vocabulary/)
  })

  it('GPT-2: an empty, headless or truncated vocab.bpe is an error, not a tokenizer with other ids', () => {
    // Each of these loaded before and encoded differently from GPT-2.
    for (const [bpe, message] of [
      ['', /vocab\.bpe is empty/],
      ['\n\n', /vocab\.bpe is empty/],
      [vocabBpe.slice(vocabBpe.indexOf('\n') + 1), /does not start with a "#version" line/],
      [vocabBpe.split('\n').slice(0, 25_001).join('\n'), /encoder\.json has 25000 of its 50257 tokens that no merge of vocab\.bpe \(25000 merges\) makes.*truncated/],
      [vocabBpe.split('\n').slice(0, -10).join('\n'), /encoder\.json has 9 of its 50257 tokens/],
      [vocabBpe.slice(0, vocabBpe.length >> 1), /merges line 25901 is not two space-separated tokens/], // cut mid-line
    ] as const) {
      const error = (() => {
        try {
          BPETokenizer.fromGpt2(encoderJson, bpe)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(BpeFormatError)
      expect(error).toBeInstanceOf(TesseraError)
      expect((error as BpeFormatError).code).toBe('bpe_format')
      expect((error as Error).message).toMatch(message)
    }
    // A merges file with duplicated lines still loads (duplicate-merges covers its ranks).
    const lines = vocabBpe.split('\n')
    expect(() => BPETokenizer.fromGpt2(encoderJson, [...lines.slice(0, 3), lines[1], ...lines.slice(3)].join('\n'))).not.toThrow()
  })

  it('CLIP merges files: missing, not gzip, truncated gzip are typed errors naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bpe-files-'))
    try {
      const missing = join(dir, 'nope.txt.gz')
      const notFound = await ClipTokenizer.load({ path: missing }).catch((e: unknown) => e)
      expect(notFound).toBeInstanceOf(VocabularyNotFoundError)
      expect(notFound).toMatchObject({ code: 'vocabulary_not_found', message: expect.stringContaining(missing) })
      expect(notFound).toBeInstanceOf(TesseraError)

      const plain = join(dir, 'plain.txt.gz')
      await writeFile(plain, '#version: 0.2\ni n\n')
      await expect(ClipTokenizer.load({ path: plain })).rejects.toMatchObject({ code: 'bpe_format', message: expect.stringMatching(/plain\.txt\.gz is named \.gz but is not gzip/) })

      const gz = gzipSync(Buffer.from('#version: 0.2\n' + 'i n\n'.repeat(5000)))
      const cut = join(dir, 'cut.txt.gz')
      await writeFile(cut, gz.subarray(0, gz.length >> 1))
      const truncated = await ClipTokenizer.load({ path: cut }).catch((e: unknown) => e)
      expect(truncated).toBeInstanceOf(BpeFormatError)
      expect((truncated as Error).message).toMatch(/cut\.txt\.gz is gzip that does not decompress/)
      await expect(ClipTokenizer.load({ bytes: gz.subarray(0, 40) })).rejects.toThrow(BpeFormatError)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('argument checks are InvalidArgumentErrors: RangeErrors, as before, and TesseraErrors', () => {
    const error = (() => {
      try {
        gpt2Tokenizer().encode('x', { dropout: 2 })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(RangeError)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error).toBeInstanceOf(TesseraError)
    expect(error).toMatchObject({ code: 'invalid_argument' })
  })

  it('tiktoken', () => {
    expect(() => parseTiktokenRanks('IQ== x\n')).toThrow(BpeFormatError)
    expect(() => parseTiktokenRanks('IQ==\n')).toThrow(BpeFormatError)
    expect(() => parseTiktokenRanks('IQ== 0\nIQ== 0\n')).toThrow(/twice/)
    expect(() => parseTiktokenRanks('%%% 0\n')).toThrow(BpeFormatError)
  })

  it('CLIP merges', () => {
    expect(() => ClipTokenizer.fromMergesText('no header\ni n\n')).toThrow(BpeFormatError)
    expect(() => ClipTokenizer.fromMergesText('#version: 0.2\ni n\nt h\n')).toThrow(/expected at least 48894/)
    expect(stripMergesPrefix('junk#version: 0.2\ni n')).toBe('#version: 0.2\ni n')
    expect(stripMergesPrefix('#version: 0.2\na b')).toBe('#version: 0.2\na b')
    expect(() => parseMergesText('#version: 0.2\nab\n')).toThrow(BpeFormatError)
  })

  it('decode of an unknown id, and a shared base class', () => {
    expect(() => gpt2Tokenizer().decode([50257])).toThrow(UnknownTokenIdError)
    expect(new BpeFormatError('x')).toBeInstanceOf(BpeError)
    expect(new BpeFormatError('x').name).toBe('BpeFormatError')
  })
})

describe('htmlUnescape (Python html.unescape)', () => {
  it.each([
    ['&amp;', '&'],
    ['&amp', '&'],
    ['&ampx', '&x'],
    ['&notit;', '¬it;'],
    ['&notin;', '∉'],
    ['&unknown;', '&unknown;'],
    ['&#65;&#x42;&#X43', 'ABC'],
    ['&#128;', '€'],
    ['&#0;', '\ufffd'],
    ['&#xD800;', '\ufffd'],
    ['&#1114112;', '\ufffd'],
    ['&#99999999999999;', '\ufffd'],
    ['&#1;', ''],
    ['&#x1F431;', '🐱'],
    ['&amp;lt;', '&lt;'],
    ['no refs', 'no refs'],
  ])('%j -> %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected)
  })
})
