import { BPETokenizer } from '@tessera/bpe'
import { DiscreteVAE, saveDvae } from '@tessera/dvae'
import { Prior, savePrior, type PriorConfig } from '@tessera/prior'
import { nn, type Device, io } from '@tessera/tensor-core'
import { BundleNotFoundError, CorruptComponentError, MissingComponentError, type ComponentName } from './errors.js'
import { generateImages, type GenerateOptions, type GenerateResult } from './generate.js'
import { BUNDLE_FORMAT, BUNDLE_MANIFEST, BUNDLE_VERSION, checkConfigs, checkTokenizer, parseManifest, type BundleManifest, type ComponentEntry, type SamplingDefaults } from './manifest.js'
import { encodePrompt } from './prompt.js'
import { directorySource, fileMapSource, urlSource, type BundleFiles, type BundleSource } from './source.js'

/** A directory path (Node), a URL (http(s) fetched; file: read from disk), a source, or files by name (browser). */
export type BundleLocation = string | URL | BundleSource | BundleFiles

function toSource(location: BundleLocation): BundleSource {
  if (typeof location === 'string') return /^https?:\/\//.test(location) ? urlSource(location) : directorySource(location)
  if (location instanceof URL) return location.protocol === 'file:' ? directorySource(location) : urlSource(location)
  if ('read' in location && typeof location.read === 'function' && 'description' in location) return location as BundleSource
  return fileMapSource(location as BundleFiles)
}

/** The pad token a bundle's tokenizer uses unless its manifest names another. */
export const PAD_TOKEN = '<|pad|>'

/**
 * A loaded model bundle: the text tokenizer, the dVAE and the prior on one device, plus the
 * manifest (configs, recipe, metrics). `generate` turns prompts into images.
 */
export class DalleBundle {
  private readonly masked = new Map<string, Promise<Prior>>()

  constructor(
    readonly device: Device,
    readonly manifest: BundleManifest,
    readonly tokenizer: BPETokenizer,
    readonly dvae: DiscreteVAE,
    readonly prior: Prior,
    private readonly source: BundleSource,
  ) {}

  /** Where the bundle was loaded from. */
  get location(): string {
    return this.source.description
  }

  /** Reads one of a component's files by role (a reranker plugin loads the CLIP slot's weights this way). */
  async readFile(component: keyof BundleManifest['components'], role: string): Promise<Uint8Array> {
    const entry = this.manifest.components[component]
    const file = entry?.files[role]
    if (!entry || file === undefined) throw new MissingComponentError(component, `(${role})`, this.location)
    const bytes = await this.source.read(file)
    if (!bytes) throw new MissingComponentError(component, file, this.location)
    return bytes
  }

  /** The prompt as the prior's text input: textLength ids, padded; too long → PromptTooLongError unless truncate. */
  encodePrompt(prompt: string, opts: { truncate?: boolean } = {}): Int32Array {
    return encodePrompt(this.tokenizer, prompt, this.prior.config, opts.truncate ?? false)
  }

  /**
   * The prior with other attention masks (same weights), for generating under a mask schedule it
   * was not built with; made once per schedule. Unknown names → PluginNotFoundError.
   */
  priorWithMasks(masks: PriorConfig['masks'] | undefined): Promise<Prior> {
    if (masks === undefined) return Promise.resolve(this.prior)
    const key = JSON.stringify(masks)
    let made = this.masked.get(key)
    if (!made) {
      made = (async () => {
        const other = new Prior(this.device, { ...this.prior.config, masks })
        other.loadStateDict(await this.prior.hostStateDict())
        return other
      })()
      made.catch(() => this.masked.delete(key))
      this.masked.set(key, made)
    }
    return made
  }

  /** Prompt → `count` candidates → reranked → the best `keep`; see GenerateOptions. */
  generate(opts: GenerateOptions): Promise<GenerateResult> {
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as GenerateOptions
    return generateImages(this, { ...this.manifest.sampling, ...given })
  }

  dispose(): void {
    this.dvae.dispose()
    this.prior.dispose()
    for (const p of this.masked.values()) p.then((prior) => prior.dispose(), () => {})
    this.masked.clear()
  }
}

async function readRequired(source: BundleSource, component: ComponentName, file: string): Promise<Uint8Array> {
  const bytes = await source.read(file)
  if (!bytes) throw new MissingComponentError(component, file, source.description)
  return bytes
}

async function readWeights(source: BundleSource, component: ComponentName, file: string): Promise<Record<string, io.HostTensor>> {
  const bytes = await readRequired(source, component, file)
  try {
    return io.parseSafetensors(bytes).getAll()
  } catch (error) {
    throw new CorruptComponentError(component, file, `not a readable safetensors file (${(error as Error).message})`)
  }
}

function loadInto(module: nn.Module, tensors: Record<string, io.HostTensor>, component: ComponentName, file: string): void {
  try {
    module.loadStateDict(tensors)
  } catch (error) {
    if (error instanceof nn.StateDictError) throw new CorruptComponentError(component, file, `its weights do not fit the config in ${BUNDLE_MANIFEST}: ${error.message}`)
    throw error
  }
}

async function readTokenizer(source: BundleSource, entry: ComponentEntry<'bpe', { padToken: string }>): Promise<{ tokenizer: BPETokenizer; padId: number }> {
  const file = entry.files.tokenizer!
  const bytes = await readRequired(source, 'textTokenizer', file)
  let tokenizer: BPETokenizer
  try {
    tokenizer = BPETokenizer.fromJSON(new TextDecoder().decode(bytes))
  } catch (error) {
    throw new CorruptComponentError('textTokenizer', file, `not a @tessera/bpe tokenizer JSON (${(error as Error).message})`)
  }
  const padToken = entry.config.padToken ?? PAD_TOKEN
  const padId = tokenizer.tokenToId(padToken)
  if (padId === undefined) throw new CorruptComponentError('textTokenizer', file, `it has no ${padToken} token to pad captions with`)
  return { tokenizer, padId }
}

/**
 * Loads a bundle onto `device`: manifest, then the configs checked against each other, then the
 * tokenizer and each component's weights. A missing, corrupt or mismatched part throws the
 * BundleError subclass naming it (MissingComponentError, CorruptComponentError, ComponentMismatchError, BundleFormatError).
 */
export async function loadBundle(device: Device, location: BundleLocation): Promise<DalleBundle> {
  const source = toSource(location)
  const manifestBytes = await source.read(BUNDLE_MANIFEST)
  if (!manifestBytes) throw new BundleNotFoundError(source.description)
  const manifest = parseManifest(manifestBytes, source.description)
  const configs = checkConfigs(manifest)
  const { tokenizer, padId } = await readTokenizer(source, manifest.components.textTokenizer)
  checkTokenizer(configs.prior, tokenizer.vocabSize, padId)

  const { dvae: dEntry, prior: pEntry } = manifest.components
  const encoder = await readWeights(source, 'dvae', dEntry.files.encoder!)
  const decoder = await readWeights(source, 'dvae', dEntry.files.decoder!)
  const priorWeights = await readWeights(source, 'prior', pEntry.files.weights!)
  const dvae = new DiscreteVAE(device, configs.dvae)
  let prior: Prior | null = null
  try {
    loadInto(dvae.encoder, encoder, 'dvae', dEntry.files.encoder!)
    loadInto(dvae.decoder, decoder, 'dvae', dEntry.files.decoder!)
    prior = new Prior(device, pEntry.config)
    loadInto(prior, priorWeights, 'prior', pEntry.files.weights!)
  } catch (error) {
    dvae.dispose()
    prior?.dispose()
    throw error
  }
  return new DalleBundle(device, manifest, tokenizer, dvae, prior, source)
}

export interface SaveBundleParts {
  tokenizer: BPETokenizer
  dvae: DiscreteVAE
  prior: Prior
  /** The tokenizer's pad token (default '<|pad|>'): its id must be the prior's padId. */
  padToken?: string
  /** How each component was made (recipes, metrics, commands): kept in its entry and in its own manifest. */
  provenance?: { textTokenizer?: Record<string, unknown>; dvae?: Record<string, unknown>; prior?: Record<string, unknown> }
  /** A CLIP directory to copy into clip/: its files by role, kind and config (no loader here yet). */
  clip?: { dir: string; kind: string; config: Record<string, unknown>; files: Record<string, string>; provenance?: Record<string, unknown> }
  /** Recommended sampling settings (see BundleManifest.sampling). */
  sampling?: SamplingDefaults
  training?: Record<string, unknown>
  metrics?: Record<string, unknown>
}

/**
 * Writes a bundle directory (Node): tokenizer.json, dvae/ (a `tessera-dvae` directory: loadDvae
 * reads it too), prior/ (a `tessera-prior` directory: loadPrior reads it), clip/ when given, and
 * manifest.json last, atomically. Components that do not fit each other are refused before anything is written.
 */
export async function saveBundle(dir: string, parts: SaveBundleParts): Promise<BundleManifest> {
  const { copyFile, mkdir } = await import('node:fs/promises')
  const { join, basename } = await import('node:path')
  const padToken = parts.padToken ?? PAD_TOKEN
  const provenance = parts.provenance ?? {}
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    components: {
      textTokenizer: { kind: 'bpe', config: { vocabSize: parts.tokenizer.vocabSize, padToken }, files: { tokenizer: 'tokenizer.json' }, ...(provenance.textTokenizer && { provenance: provenance.textTokenizer }) },
      dvae: { kind: 'dvae', config: parts.dvae.config, files: { encoder: 'dvae/encoder.safetensors', decoder: 'dvae/decoder.safetensors' }, ...(provenance.dvae && { provenance: provenance.dvae }) },
      prior: { kind: 'prior', config: parts.prior.config, files: { weights: 'prior/prior.safetensors' }, ...(provenance.prior && { provenance: provenance.prior }) },
    },
    ...(parts.sampling && { sampling: parts.sampling }),
    ...(parts.training && { training: parts.training }),
    ...(parts.metrics && { metrics: parts.metrics }),
  }
  if (parts.clip) {
    const files = Object.fromEntries(Object.entries(parts.clip.files).map(([role, file]) => [role, `clip/${basename(file)}`]))
    manifest.components.clip = { kind: parts.clip.kind, config: parts.clip.config, files, ...(parts.clip.provenance && { provenance: parts.clip.provenance }) }
  }
  const configs = checkConfigs(manifest)
  const padId = parts.tokenizer.tokenToId(padToken)
  if (padId === undefined) throw new CorruptComponentError('textTokenizer', 'tokenizer.json', `it has no ${padToken} token to pad captions with`)
  checkTokenizer(configs.prior, parts.tokenizer.vocabSize, padId)

  await mkdir(dir, { recursive: true })
  const encoder = new TextEncoder()
  await io.writeFileAtomic(join(dir, 'tokenizer.json'), encoder.encode(JSON.stringify(parts.tokenizer)))
  await saveDvae(parts.dvae, join(dir, 'dvae'), provenance.dvae)
  await savePrior(parts.prior, join(dir, 'prior'), provenance.prior)
  if (parts.clip) {
    await mkdir(join(dir, 'clip'), { recursive: true })
    for (const file of Object.values(parts.clip.files)) await copyFile(join(parts.clip.dir, file), join(dir, 'clip', basename(file)))
  }
  await io.writeFileAtomic(join(dir, BUNDLE_MANIFEST), encoder.encode(JSON.stringify(manifest, null, 2) + '\n'))
  return manifest
}
