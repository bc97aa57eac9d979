// Tiny, untrained parts that fit each other, for tests of this package and of the apps on top of
// it (the CLI's): one definition, imported as '@tessera/dalle/testing'. Nothing here is trained.
import { BPETokenizer } from '@tessera/bpe'
import { DiscreteVAE } from '@tessera/dvae'
import { Prior } from '@tessera/prior'
import type { Device } from '@tessera/tensor-core'
import { PAD_TOKEN, saveBundle, type SaveBundleParts } from './bundle.js'

export const TINY_CAPTIONS = ['a red heart', 'a blue star', 'a green circle', 'a small red star', 'a big blue heart']

/** A BPE trained on a few captions, with the pad token a bundle needs. */
export const tinyTokenizer = () => BPETokenizer.train(TINY_CAPTIONS, { vocabSize: 400, minFrequency: 1, lowercase: true, specialTokens: [PAD_TOKEN] })

/** Freshly initialised parts that fit each other: dVAE preset 'tiny' (32² → 4×4 of 64 codes) and a two-layer prior with an 8-token caption. */
export async function tinyParts(device: Device): Promise<{ tokenizer: BPETokenizer; dvae: DiscreteVAE; prior: Prior }> {
  const tokenizer = await tinyTokenizer()
  const dvae = new DiscreteVAE(device, 'tiny', { seed: 1 })
  const prior = new Prior(device, {
    textVocabSize: tokenizer.vocabSize,
    padId: tokenizer.tokenToId(PAD_TOKEN)!,
    imageVocabSize: 64,
    textLength: 8,
    gridSize: [4, 4],
    width: 32,
    heads: 2,
    layers: 2,
    masks: ['row', 'column'],
    seed: 3,
  })
  return { tokenizer, dvae, prior }
}

/** A tiny bundle (tinyParts) written to `dir` (Node). */
export async function writeTinyBundle(device: Device, dir: string, about: Pick<SaveBundleParts, 'training' | 'metrics'> = { training: { note: 'untrained: for tests' } }): Promise<void> {
  const parts = await tinyParts(device)
  try {
    await saveBundle(dir, { ...parts, ...about })
  } finally {
    parts.dvae.dispose()
    parts.prior.dispose()
  }
}
