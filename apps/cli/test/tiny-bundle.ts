import { BPETokenizer } from '@tessera/bpe'
import { saveBundle } from '@tessera/dalle'
import { DiscreteVAE } from '@tessera/dvae'
import { Prior } from '@tessera/prior'
import { Device } from '@tessera/tensor-core'

/** An untrained bundle small enough for CLI tests: BPE on five captions, dVAE preset 'tiny' (32² → 4×4), a two-layer prior. */
export async function writeTinyBundle(dir: string): Promise<void> {
  const device = await Device.create({ backend: 'cpu' })
  const tokenizer = await BPETokenizer.train(['a red heart', 'a blue star', 'a green circle', 'a small red star', 'a big blue heart'], {
    vocabSize: 400,
    minFrequency: 1,
    lowercase: true,
    specialTokens: ['<|pad|>'],
  })
  const dvae = new DiscreteVAE(device, 'tiny', { seed: 1 })
  const prior = new Prior(device, {
    textVocabSize: tokenizer.vocabSize,
    padId: tokenizer.tokenToId('<|pad|>')!,
    imageVocabSize: 64,
    textLength: 8,
    gridSize: [4, 4],
    width: 32,
    heads: 2,
    layers: 2,
    masks: ['row', 'column'],
    seed: 3,
  })
  await saveBundle(dir, { tokenizer, dvae, prior, training: { note: 'untrained: for the CLI tests' } })
  dvae.dispose()
  prior.dispose()
  device.destroy()
}
