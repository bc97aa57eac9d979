import { decodePng, ImageFormatError, type RgbaImage } from '@tessera/datasets'
import { readFile } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import { UserError } from '../fail.js'
import { slug } from '../images.js'
import type { SamplingFlags } from '../options.js'
import { userPath } from '../paths.js'
import { sampleAndWrite, withBundle } from './sample.js'

export interface CompleteFlags extends SamplingFlags {
  keep: 'top' | 'left'
  rows?: number
}

async function readPng(file: string): Promise<RgbaImage> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(userPath(file))
  } catch (error) {
    throw new UserError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
  try {
    return await decodePng(bytes)
  } catch (error) {
    if (error instanceof ImageFormatError) throw new UserError(`${file}: ${error.message}; complete takes a PNG image`)
    throw error
  }
}

/** tessera complete IMAGE.png ["<prompt>"]: keeps the image's top rows (or left columns) of tokens and samples the rest. */
export async function completeCommand(file: string, prompt: string | undefined, flags: CompleteFlags): Promise<void> {
  const image = await readPng(file)
  await withBundle(flags, async (bundle, dir) => {
    const [rows, cols] = bundle.prior.config.gridSize
    const lines = flags.keep === 'top' ? rows : cols
    const kept = flags.rows ?? Math.round(lines / 2)
    if (kept > lines) throw new UserError(`--rows ${kept}: this model's token grid has ${lines} ${flags.keep === 'top' ? 'rows' : 'columns'}`)
    const stem = `${slug(basename(file, extname(file)), 'image')}-completed`
    await sampleAndWrite(bundle, dir, flags, { prompt: prompt ?? '', keep: flags.count, imagePrompt: { image, keep: flags.keep, amount: kept / lines } }, stem)
  })
}
