import type { SamplingFlags } from '../options.js'
import { slug } from '../images.js'
import { sampleAndWrite, withBundle } from './sample.js'

export interface GenerateFlags extends SamplingFlags {
  keep: number
}

/** tessera generate "<prompt>": K best of N candidates as PNGs plus a grid. */
export async function generateCommand(prompt: string, flags: GenerateFlags): Promise<void> {
  const keep = Math.min(flags.keep, flags.count)
  await withBundle(flags, (bundle, dir) => sampleAndWrite(bundle, dir, flags, { prompt, keep }, slug(prompt, 'image')))
}
