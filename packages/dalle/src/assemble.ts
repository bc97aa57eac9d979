import { BPETokenizer } from '@tessera/bpe'
import { clipBundleComponent } from '@tessera/clip-rerank'
import { loadDvae } from '@tessera/dvae'
import { loadPrior } from '@tessera/prior'
import type { Device } from '@tessera/tensor-core'
import { PAD_TOKEN, saveBundle } from './bundle.js'
import { CorruptComponentError, MissingComponentError } from './errors.js'
import type { BundleManifest, SamplingDefaults } from './manifest.js'

export interface AssembleBundleOptions {
  /** A prior directory (savePrior's: manifest.json + prior.safetensors). */
  prior: string
  /** A dVAE directory (saveDvae's). */
  dvae: string
  /** A CLIP directory (saveClip's), for reranking. */
  clip?: string
  /** The tokenizer JSON the prior was trained with (default: PRIOR/tokenizer.json, where training leaves it). */
  tokenizer?: string
  padToken?: string
  sampling?: SamplingDefaults
  /** How each part is named in the provenance (e.g. '@tessera/models dvae-emoji-32'); default its directory. */
  sources?: { dvae?: string; clip?: string }
  /** The bundle's own training record (the command that assembled it, notes). */
  training?: Record<string, unknown>
  metrics?: Record<string, unknown>
}

/** What a component's own manifest says besides its format, version and config: recipe, metrics, commands. */
function provenanceOf({ format: _f, version: _v, config: _c, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest
}

/**
 * Assembles a bundle at `out` (Node) from the directories training leaves behind: every part is
 * loaded and checked against the others (saveBundle refuses parts that do not fit, naming both)
 * before anything is written, and each part's own manifest is kept as its provenance.
 */
export async function assembleBundle(device: Device, out: string, opts: AssembleBundleOptions): Promise<BundleManifest> {
  const { readFile } = await import('node:fs/promises')
  const { basename, dirname, join } = await import('node:path')
  const tokenizerPath = opts.tokenizer ?? join(opts.prior, 'tokenizer.json')
  let tokenizerText: string
  try {
    tokenizerText = await readFile(tokenizerPath, 'utf8')
  } catch {
    throw new MissingComponentError('textTokenizer', basename(tokenizerPath), `${dirname(tokenizerPath)} (give the tokenizer JSON the prior was trained with)`)
  }
  let tokenizer: BPETokenizer
  try {
    tokenizer = BPETokenizer.fromJSON(tokenizerText)
  } catch (error) {
    throw new CorruptComponentError('textTokenizer', tokenizerPath, `not a @tessera/bpe tokenizer JSON (${(error as Error).message})`)
  }
  const { model: dvae, manifest: dvaeManifest } = await loadDvae(device, opts.dvae)
  try {
    const { prior, manifest: priorManifest } = await loadPrior(device, opts.prior)
    try {
      const clip = opts.clip === undefined ? undefined : await clipBundleComponent(opts.clip)
      return await saveBundle(out, {
        tokenizer,
        dvae,
        prior,
        padToken: opts.padToken ?? PAD_TOKEN,
        clip: clip && { ...clip, provenance: { source: opts.sources?.clip ?? opts.clip, ...clip.provenance } },
        sampling: opts.sampling,
        provenance: {
          textTokenizer: { source: tokenizerPath },
          dvae: { source: opts.sources?.dvae ?? opts.dvae, ...provenanceOf(dvaeManifest as unknown as Record<string, unknown>) },
          prior: { source: opts.prior, ...provenanceOf(priorManifest as unknown as Record<string, unknown>) },
        },
        training: opts.training,
        metrics: opts.metrics,
      })
    } finally {
      prior.dispose()
    }
  } finally {
    dvae.dispose()
  }
}
