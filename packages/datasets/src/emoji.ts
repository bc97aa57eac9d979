import { DatasetError } from './errors.js'
import type { ImageCaptionDataset } from './dataset.js'
import { indexEmojiCaptions, normaliseHexcode, type EmojiCaption } from './emoji-captions.js'
import { fitImage } from './image/fit.js'
import { decodePng } from './image/png.js'
import { checkSplit, inSplit, type DatasetSplit } from './split.js'

/** Art packs with licences that allow any use: Twitter's (CC-BY-4.0) and Google's (Apache-2.0). Apple's and Facebook's are not used. */
export const EMOJI_VENDORS = ['twitter', 'google'] as const
export type EmojiVendor = (typeof EMOJI_VENDORS)[number]
export type EmojiSplit = DatasetSplit

export interface EmojiOptions {
  /** Side of the square images (default 32; the packages ship 64×64). */
  imageSize?: number
  vendors?: readonly EmojiVendor[]
  split?: EmojiSplit
  /** Fraction of emoji (by base hexcode) held out (default 0.1). */
  heldOutFraction?: number
  /** Include skin-tone variants (default true). */
  skinTones?: boolean
}

export interface EmojiItem extends EmojiCaption {
  vendor: EmojiVendor
}

export interface EmojiDataset extends ImageCaptionDataset {
  readonly items: readonly EmojiItem[]
  /** Image files that had no emojibase caption and were left out. */
  readonly uncaptioned: number
}

interface VendorImages {
  items: EmojiItem[]
  images: Float32Array
  uncaptioned: number
}

// Decoding ~3.8k PNGs per vendor takes seconds: keep each (vendor, size) once per process.
const cache = new Map<string, Promise<VendorImages>>()

async function packageDir(name: string): Promise<string> {
  const { createRequire } = await import('node:module')
  const { dirname } = await import('node:path')
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`))
  } catch {
    throw new DatasetError(`the npm package '${name}' is not installed: add it (pnpm add ${name}) to load the emoji dataset`)
  }
}

let captionIndex: Promise<Map<string, EmojiCaption>> | null = null
function loadCaptions(): Promise<Map<string, EmojiCaption>> {
  captionIndex ??= (async () => {
    const { readFile } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const dir = await packageDir('emojibase-data')
    const data = JSON.parse(await readFile(join(dir, 'en', 'data.json'), 'utf8'))
    const groups = JSON.parse(await readFile(join(dir, 'meta', 'groups.json'), 'utf8'))
    return indexEmojiCaptions(data, groups)
  })()
  return captionIndex
}

async function loadVendor(vendor: EmojiVendor, imageSize: number): Promise<VendorImages> {
  const { readdir, readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const captions = await loadCaptions()
  const dir = join(await packageDir(`emoji-datasource-${vendor}`), 'img', vendor, '64')
  const files = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort()
  const items: EmojiItem[] = []
  const planes: Float32Array[] = []
  let uncaptioned = 0
  for (const file of files) {
    const caption = captions.get(normaliseHexcode(file.slice(0, -'.png'.length)))
    if (!caption) {
      uncaptioned++
      continue
    }
    planes.push(fitImage(await decodePng(await readFile(join(dir, file))), imageSize).data)
    items.push({ ...caption, vendor })
  }
  const size = 3 * imageSize * imageSize
  const images = new Float32Array(planes.length * size)
  planes.forEach((p, i) => images.set(p, i * size))
  return { items, images, uncaptioned }
}

/**
 * Emoji images (composited over white, bicubic-resized) with their emojibase labels as
 * captions, from the npm packages emoji-datasource-{twitter,google} and emojibase-data.
 * Node only (reads the packages' files).
 */
export async function loadEmojiDataset(opts: EmojiOptions = {}): Promise<EmojiDataset> {
  const imageSize = opts.imageSize ?? 32
  const vendors = opts.vendors ?? EMOJI_VENDORS
  const split = opts.split ?? 'all'
  const fraction = opts.heldOutFraction ?? 0.1
  const skinTones = opts.skinTones ?? true
  if (!Number.isInteger(imageSize) || imageSize < 1 || imageSize > 64) throw new DatasetError(`emoji imageSize must be an integer in 1..64, got ${imageSize}`)
  checkSplit(split, fraction)
  if (vendors.length === 0) throw new DatasetError(`choose at least one vendor of ${EMOJI_VENDORS.join(', ')}`)
  for (const v of vendors) {
    if (!EMOJI_VENDORS.includes(v)) throw new DatasetError(`unknown emoji vendor '${v}': use ${EMOJI_VENDORS.join(' or ')} (Apple and Facebook art is not licensed for this use)`)
  }
  const perVendor = await Promise.all(
    vendors.map((v) => {
      const key = `${v}@${imageSize}`
      let entry = cache.get(key)
      if (!entry) {
        entry = loadVendor(v, imageSize)
        cache.set(key, entry)
        entry.catch(() => cache.delete(key))
      }
      return entry
    }),
  )
  const size = 3 * imageSize * imageSize
  const items: EmojiItem[] = []
  const chosen: Float32Array[] = []
  let uncaptioned = 0
  for (const vendor of perVendor) {
    uncaptioned += vendor.uncaptioned
    vendor.items.forEach((item, i) => {
      if (!skinTones && item.skinTone) return
      // Split by base hexcode: every vendor's drawing and skin tone of an emoji falls on one
      // side, so held-out emoji are truly unseen.
      if (!inSplit(item.baseHexcode, split, fraction)) return
      items.push(item)
      chosen.push(vendor.images.subarray(i * size, (i + 1) * size))
    })
  }
  const images = new Float32Array(chosen.length * size)
  chosen.forEach((img, i) => images.set(img, i * size))
  return { imageSize, length: items.length, images, captions: items.map((item) => item.label), items, uncaptioned }
}
