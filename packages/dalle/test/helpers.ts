import { BPETokenizer } from '@tessera/bpe'
import { DiscreteVAE } from '@tessera/dvae'
import { Prior } from '@tessera/prior'
import { Device } from '@tessera/tensor-core'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveBundle } from '../src/index.js'

let cpu: Promise<Device> | null = null
let gpu: Promise<Device> | null = null
export const cpuDevice = () => (cpu ??= Device.create({ backend: 'cpu' }))
export const gpuDevice = () => (gpu ??= Device.create({ backend: 'webgpu' }))

export const CAPTIONS = ['a red heart', 'a blue star', 'a green circle', 'a small red star', 'a big blue heart']

/** A BPE trained on a few captions, with the pad token the bundle needs. */
export const tinyTokenizer = () => BPETokenizer.train(CAPTIONS, { vocabSize: 400, minFrequency: 1, lowercase: true, specialTokens: ['<|pad|>'] })

/** Freshly initialised parts that fit each other: dVAE preset 'tiny' (32² → 4×4 of 64 codes) and a two-layer prior. */
export async function tinyParts(device: Device) {
  const tokenizer = await tinyTokenizer()
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
  return { tokenizer, dvae, prior }
}

/** A tiny bundle written to a fresh temporary directory. */
export async function tinyBundleDir(device: Device): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dalle-bundle-'))
  const parts = await tinyParts(device)
  await saveBundle(dir, { ...parts, training: { note: 'untrained: for tests' }, metrics: { heldOutImageCe: 4.2 } })
  parts.dvae.dispose()
  parts.prior.dispose()
  return dir
}
