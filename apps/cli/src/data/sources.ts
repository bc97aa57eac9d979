import { loadEmojiDataset, loadImageFolder, loadPackedDataset, type ImageCaptionDataset } from '@tessera/datasets'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../fail.js'
import { userPath } from '../paths.js'
import { shapesSplits, SHAPES_TRAIN_COUNT } from './shapes.js'

/** What --data names: a dataset by name, your own folder, a packed copy of the emoji set, or (prior only) tokens already encoded. */
export type DataSpec =
  | { kind: 'emoji' }
  | { kind: 'shapes'; count: number }
  | { kind: 'folder'; dir: string }
  | { kind: 'packed'; dir: string }
  | { kind: 'tokens'; dir: string }

const IMAGE_SOURCES = ['emoji', 'shapes', 'shapes:N', 'folder:DIR', 'packed:DIR']

/** Held out of a folder: the images whose path inside it hashes (FNV-1a) below this fraction; see loadImageFolder. */
export const FOLDER_HELD_OUT = 0.1

export const EMOJI_DATA =
  'emoji-datasource-twitter + emoji-datasource-google 16.0.0 (64px PNGs over white, bicubic to the model size), emojibase-data 17.0.0 captions; held-out = base hexcode hash < 0.1 (every vendor and skin tone of an emoji on one side)'

/** --data's text → a DataSpec; an unknown name lists the known ones. `tokens:DIR` only where the caller takes it. */
export function parseDataSpec(text: string, opts: { tokens?: boolean } = {}): DataSpec {
  const known = opts.tokens ? [...IMAGE_SOURCES, 'tokens:DIR'] : IMAGE_SOURCES
  const colon = text.indexOf(':')
  const [name, arg] = colon < 0 ? [text, null] : [text.slice(0, colon), text.slice(colon + 1)]
  const dir = () => {
    if (!arg) throw new UserError(`--data ${text}: give the folder after the colon, e.g. ${name}:./my-images`)
    const path = userPath(arg)
    if (!existsSync(path)) throw new UserError(`--data ${text}: no such folder (${path})`)
    if (!statSync(path).isDirectory()) throw new UserError(`--data ${text}: ${path} is a file; give the folder that holds the data`)
    return path
  }
  if (name === 'emoji' && arg === null) return { kind: 'emoji' }
  if (name === 'shapes') {
    const count = arg === null ? SHAPES_TRAIN_COUNT : Number(arg)
    if (!Number.isInteger(count) || count < 1) throw new UserError(`--data ${text}: shapes:N takes a positive number of training images`)
    return { kind: 'shapes', count }
  }
  if (name === 'folder') return { kind: 'folder', dir: dir() }
  if (name === 'packed') return { kind: 'packed', dir: dir() }
  if (name === 'tokens' && opts.tokens) return { kind: 'tokens', dir: dir() }
  throw new UserError(`--data ${text}: unknown dataset; known: ${known.join(', ')}`)
}

export interface ImageSplits {
  train: ImageCaptionDataset
  heldOut: ImageCaptionDataset
  /** Where the images came from and how they were split, for the model's manifest. */
  description: string
}

/**
 * The training and held-out images of an image source at `imageSize`. Held-out images are never
 * trained on: they measure what a model does on images it has not seen.
 */
export async function loadImageSplits(spec: DataSpec, opts: { imageSize: number | 'any'; seed: number; heldOutRequired?: boolean }): Promise<ImageSplits> {
  // 'any': the caller reads the captions alone, so the images load small (a packed set at its own size).
  const imageSize = opts.imageSize === 'any' ? 8 : opts.imageSize
  let splits: ImageSplits
  switch (spec.kind) {
    case 'emoji':
      splits = { train: await loadEmojiDataset({ imageSize, split: 'train' }), heldOut: await loadEmojiDataset({ imageSize, split: 'heldout' }), description: EMOJI_DATA }
      break
    case 'shapes':
      splits = shapesSplits(imageSize, opts.seed, spec.count)
      break
    case 'folder': {
      const train = await loadImageFolder(spec.dir, { imageSize, split: 'train', heldOutFraction: FOLDER_HELD_OUT })
      // On stderr: stdout may be one JSON object (--json).
      if (train.skipped.length) process.stderr.write(`note: ${spec.dir} has ${train.skipped.length} images in formats other than PNG (e.g. ${train.skipped[0]}), left out: convert them to PNG to use them\n`)
      splits = {
        train,
        heldOut: await loadImageFolder(spec.dir, { imageSize, split: 'heldout', heldOutFraction: FOLDER_HELD_OUT }),
        description: `the PNGs under ${spec.dir} (captions from a .txt beside each, else the file name; over white, bicubic to ${imageSize} px); held-out = FNV-1a hash of the path inside the folder < ${FOLDER_HELD_OUT}`,
      }
      break
    }
    case 'packed':
      splits = { train: await loadPackedDataset(join(spec.dir, 'emoji-train')), heldOut: await loadPackedDataset(join(spec.dir, 'emoji-heldout')), description: `packed 8-bit copy of ${EMOJI_DATA}` }
      if (opts.imageSize !== 'any' && splits.train.imageSize !== imageSize) throw new UserError(`--data packed:${spec.dir} holds ${splits.train.imageSize} px images, the model takes ${imageSize} px: pack them at that size (node packages/datasets/scripts/pack-emoji.mjs --size ${imageSize})`)
      break
    case 'tokens':
      throw new UserError(`--data tokens:${spec.dir} holds image tokens, not images: this command needs images (${IMAGE_SOURCES.join(', ')})`)
  }
  if (splits.train.length === 0) throw new UserError(`the data has no training images: add images`)
  if ((opts.heldOutRequired ?? true) && splits.heldOut.length === 0) {
    throw new UserError(`the data has no held-out images to evaluate on (${splits.train.length} images; a folder holds out the ${Math.round(FOLDER_HELD_OUT * 100)}% whose path hashes lowest): add more images`)
  }
  return splits
}

/** The spec as typed, for provenance and the token cache key. */
export function formatDataSpec(spec: DataSpec): string {
  if (spec.kind === 'emoji') return 'emoji'
  if (spec.kind === 'shapes') return spec.count === SHAPES_TRAIN_COUNT ? 'shapes' : `shapes:${spec.count}`
  return `${spec.kind}:${spec.dir}`
}
