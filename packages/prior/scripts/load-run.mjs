// Shared by the evaluation scripts: a prior directory (savePrior's, with tokenizer.json beside it)
// and the token data it was trained on.
import { BPETokenizer } from '@tessera/bpe'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadPrior, unpackTokenDataset } from '../dist/index.js'

export async function loadRun(device, modelDir, dataDir) {
  const { prior, manifest } = await loadPrior(device, modelDir)
  const tokenizer = BPETokenizer.fromJSON(JSON.parse(await readFile(join(modelDir, 'tokenizer.json'), 'utf8')))
  const split = async (name) => unpackTokenDataset(new Uint8Array(await readFile(join(dataDir, `${name}.tokens`)))).data
  return { prior, manifest, tokenizer, train: await split('train'), heldOut: await split('heldout') }
}
