import { BPETokenizer } from '@tessera/bpe'
import { PAD_TOKEN } from '@tessera/dalle'
import type { ImageCaptionDataset } from '@tessera/datasets'
import { encodeDataset, loadDvae, tokenGridSize, type DiscreteVAE, type DvaeConfig } from '@tessera/dvae'
import { packTokenDataset, tokenDataset, unpackTokenDataset, type TokenDataset } from '@tessera/prior'
import { type Device, io } from '@tessera/tensor-core'
import { createHash, type Hash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatDataSpec, loadImageSplits, type DataSpec } from '../data/sources.js'
import { UserError } from '../fail.js'
import { componentDir, userPath } from '../paths.js'
import { progressBar } from '../progress.js'

/** What a prior trains on: caption + image-token pairs, the tokenizer, and the dVAE the tokens belong to. */
export interface PriorData {
  train: TokenDataset
  heldOut: TokenDataset
  tokenizer: BPETokenizer
  tokenizerPath: string
  padId: number
  /** The dVAE as a shipped name or a directory (what --dvae and sample-grid.mjs take), and its config. */
  dvae: { ref: string; config: DvaeConfig }
  /** Token rows × columns of the dVAE's grid. */
  gridSize: [number, number]
  /** Where the images came from, for the model's manifest. */
  description: string
}

/** The token files of a split inside a tokens folder: what the cache writes and `--data tokens:DIR` reads (the layout packages/prior/scripts/prepare-emoji.mjs wrote before this command). */
const splitFile = (dir: string, split: 'train' | 'heldout') => join(dir, `${split}.tokens`)

async function readTokens(dir: string, split: 'train' | 'heldout'): Promise<{ data: TokenDataset; meta: Record<string, unknown> }> {
  const file = splitFile(dir, split)
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch {
    throw new UserError(`--data tokens:${dir} has no ${split}.tokens: a tokens folder holds train.tokens and heldout.tokens (the token cache of a tessera train prior run is one)`)
  }
  return unpackTokenDataset(bytes)
}

async function readTokenizer(path: string): Promise<{ tokenizer: BPETokenizer; padId: number }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw new UserError(`--tokenizer ${path}: cannot read it; make one with tessera train tokenizer --data … --out FILE`)
  }
  let tokenizer: BPETokenizer
  try {
    tokenizer = BPETokenizer.fromJSON(text)
  } catch (error) {
    throw new UserError(`--tokenizer ${path}: not a @tessera/bpe tokenizer JSON (${(error as Error).message})`)
  }
  const padId = tokenizer.tokenToId(PAD_TOKEN)
  if (padId === undefined) throw new UserError(`--tokenizer ${path} has no ${PAD_TOKEN} token to pad captions with; tessera train tokenizer adds it`)
  return { tokenizer, padId }
}

function hashDataset(hash: Hash, dataset: ImageCaptionDataset): void {
  hash.update(JSON.stringify([dataset.length, dataset.imageSize, dataset.captions]))
  hash.update(new Uint8Array(dataset.images.buffer, dataset.images.byteOffset, dataset.images.byteLength))
}

/**
 * The cache key of a (dVAE, data) pair: a hash of the encoder's weights and config and of the
 * images and captions themselves, so any change to either encodes afresh, and a resumed run
 * reads exactly the tokens its first segment trained on.
 */
async function cacheKey(dvae: DiscreteVAE, splits: ImageCaptionDataset[]): Promise<string> {
  const hash = createHash('sha256')
  hash.update(JSON.stringify(dvae.config))
  const weights = await dvae.encoder.hostStateDict()
  for (const name of Object.keys(weights).sort()) {
    const data = weights[name]!.data
    hash.update(name)
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }
  for (const split of splits) hashDataset(hash, split)
  return hash.digest('hex').slice(0, 16)
}

/**
 * The images of --data as tokens of the --dvae, encoded once: CHECKPOINTS/tokens-KEY/ keeps them
 * (a tokens folder, readable as --data tokens:DIR) and later runs of the same dVAE on the same
 * images read them back.
 */
async function encodedSplits(device: Device, spec: DataSpec, dvaeFlag: string, checkpoints: string, seed: number): Promise<Omit<PriorData, 'tokenizer' | 'tokenizerPath' | 'padId'>> {
  const { dir, ref } = componentDir(dvaeFlag, 'dvae', '--dvae')
  const { model: dvae } = await loadDvae(device, dir)
  try {
    const { train, heldOut, description } = await loadImageSplits(spec, { imageSize: dvae.config.imageSize, seed })
    const cache = join(checkpoints, `tokens-${await cacheKey(dvae, [train, heldOut])}`)
    const side = tokenGridSize(dvae.config)
    const encode = async (split: 'train' | 'heldout', images: ImageCaptionDataset): Promise<TokenDataset> => {
      if (existsSync(splitFile(cache, split))) return (await readTokens(cache, split)).data
      const bar = progressBar(`encoding ${split} images`, 'images')
      let tokens: Int32Array
      try {
        tokens = await encodeDataset(dvae, images, { onProgress: (done, total) => bar.update(done, total) })
      } finally {
        bar.stop()
      }
      const data = tokenDataset(images.captions, tokens, side * side)
      await mkdir(cache, { recursive: true })
      await io.writeFileAtomic(splitFile(cache, split), packTokenDataset(data, { dvae: ref, dvaeConfig: dvae.config, data: formatDataSpec(spec) }))
      return data
    }
    return { train: await encode('train', train), heldOut: await encode('heldout', heldOut), dvae: { ref, config: dvae.config }, gridSize: [side, side], description }
  } finally {
    dvae.dispose()
  }
}

/** Token data read from a tokens folder: its dVAE is the one its header names. */
async function tokenFolder(dir: string): Promise<Omit<PriorData, 'tokenizer' | 'tokenizerPath' | 'padId'>> {
  const { data: train, meta } = await readTokens(dir, 'train')
  const { data: heldOut } = await readTokens(dir, 'heldout')
  const config = meta.dvaeConfig as DvaeConfig | undefined
  if (!config) throw new UserError(`--data tokens:${dir}: train.tokens does not say which dVAE made its tokens (no dvaeConfig in its header)`)
  const side = tokenGridSize(config)
  return { train, heldOut, dvae: { ref: String(meta.dvae), config }, gridSize: [side, side], description: `image tokens from ${dir} (${String(meta.data ?? 'emoji')} encoded by ${String(meta.dvae)})` }
}

/**
 * The prior's training data for --data: a tokens folder as it is, or images encoded by --dvae
 * (once, cached beside the checkpoints). The tokenizer is --tokenizer, or a tokens folder's own
 * tokenizer.json.
 */
export async function loadPriorData(device: Device, spec: DataSpec, opts: { dvae: string; tokenizer?: string; checkpoints: string; seed: number }): Promise<PriorData> {
  const tokenizerPath = opts.tokenizer ? userPath(opts.tokenizer) : spec.kind === 'tokens' ? join(spec.dir, 'tokenizer.json') : null
  if (!tokenizerPath) throw new UserError('train prior needs --tokenizer FILE, the BPE for the captions: make one with tessera train tokenizer --data … --out FILE')
  const { tokenizer, padId } = await readTokenizer(tokenizerPath)
  const data = spec.kind === 'tokens' ? await tokenFolder(spec.dir) : await encodedSplits(device, spec, opts.dvae, opts.checkpoints, opts.seed)
  if (data.heldOut.length === 0) throw new UserError('the data has no held-out pairs to evaluate on: add more images')
  return { ...data, tokenizer, tokenizerPath, padId }
}
