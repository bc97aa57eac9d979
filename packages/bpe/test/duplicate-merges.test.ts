import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BPETokenizer } from '../src/index.js'
import { gpt2Files } from './helpers.js'

// Ids from OpenAI's GPT-2 encoder.py on GPT-2's files with duplicated merge lines
// (fixtures/make_duplicate_merges.py): there the last line of a duplicated pair sets its rank.
const fixture = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/duplicate_merges.json'), 'utf8')) as {
  edits: { appendCopiesOf: number[]; prependCopiesOf: number[] }
  cases: { text: string; ids: number[] }[]
}

describe('a merges file with duplicated lines', () => {
  const { encoderJson, vocabBpe } = gpt2Files()
  const lines = vocabBpe.split('\n').slice(1).filter((l) => l !== '')
  const { appendCopiesOf, prependCopiesOf } = fixture.edits
  const edited = [...prependCopiesOf.map((i) => lines[i]!), ...lines, ...appendCopiesOf.map((i) => lines[i]!)]

  it('ranks a pair by its last line, as GPT-2 encoder.py does (vocab.bpe)', () => {
    const tok = BPETokenizer.fromGpt2(encoderJson, `#version: 0.2\n${edited.join('\n')}\n`)
    expect(fixture.cases.map((c) => tok.encode(c.text))).toEqual(fixture.cases.map((c) => c.ids))
  })

  it('ranks a pair by its last line, as HuggingFace tokenizers does (tokenizer.json)', () => {
    const tok = BPETokenizer.fromHuggingFace({
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
      model: { type: 'BPE', vocab: JSON.parse(encoderJson), merges: edited },
    })
    expect(fixture.cases.map((c) => tok.encode(c.text))).toEqual(fixture.cases.map((c) => c.ids))
  })

  it('the duplicates matter: without them the same texts encode differently', () => {
    const plain = BPETokenizer.fromGpt2(encoderJson, vocabBpe)
    const differing = fixture.cases.filter((c) => JSON.stringify(plain.encode(c.text)) !== JSON.stringify(c.ids))
    expect(differing.length).toBeGreaterThan(fixture.cases.length / 2)
  })
})
