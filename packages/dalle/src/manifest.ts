import { resolveConfig as resolveDvaeConfig, tokenGridSize, type DvaeConfig } from '@tessera/dvae'
import { resolvePriorConfig, type PriorConfig, type ResolvedPriorConfig } from '@tessera/prior'
import { BundleFormatError, ComponentMismatchError, CorruptComponentError, type ComponentName } from './errors.js'

export const BUNDLE_FORMAT = 'tessera-bundle'
export const BUNDLE_VERSION = 1
export const BUNDLE_MANIFEST = 'manifest.json'

/** One component: what it is, how it is built, and where its files are (paths relative to the bundle root). */
export interface ComponentEntry<Kind extends string = string, Config = Record<string, unknown>> {
  kind: Kind
  config: Config
  /** role → path, e.g. { weights: 'prior/prior.safetensors' }. */
  files: Record<string, string>
  /** How it was made: its own manifest's recipe, metrics, commands (everything but format, version, config). */
  provenance?: Record<string, unknown>
}

export interface TokenizerConfig {
  vocabSize: number
  /** The special token that pads captions; its id is the prior's padId. */
  padToken: string
}

/** Options of `generate` a bundle may set defaults for. */
export interface SamplingDefaults {
  topK?: number
  topP?: number
  temperature?: number
  guidance?: number
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT
  version: typeof BUNDLE_VERSION
  components: {
    /** A @tessera/bpe tokenizer JSON ({ tokenizer: 'tokenizer.json' }). */
    textTokenizer: ComponentEntry<'bpe', TokenizerConfig>
    /** { encoder, decoder } safetensors in OpenAI's names; the folder is also a `tessera-dvae` directory. */
    dvae: ComponentEntry<'dvae', DvaeConfig>
    /** { weights } safetensors; the folder is also a `tessera-prior` directory (loadPrior). */
    prior: ComponentEntry<'prior', PriorConfig>
    /** A slot for the CLIP reranker: its plugin reads the files through the loaded bundle. */
    clip?: ComponentEntry
  }
  /**
   * Sampling settings the bundle's makers recommend (e.g. the guidance its prior was trained
   * for): `generate` uses each where the caller leaves that option out.
   */
  sampling?: SamplingDefaults
  /** How the bundle as a whole was made (commands, which stage ran where and for how long). */
  training?: Record<string, unknown>
  metrics?: Record<string, unknown>
  [key: string]: unknown
}

/** The files each required component must list, by role. */
export const COMPONENT_FILES = {
  textTokenizer: ['tokenizer'],
  dvae: ['encoder', 'decoder'],
  prior: ['weights'],
} as const

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses and checks manifest.json's shape; says what a directory of another kind is instead. */
export function parseManifest(bytes: Uint8Array, where: string): BundleManifest {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch (error) {
    throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST} is not JSON: ${(error as Error).message}`)
  }
  if (!isObject(json)) throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST} is not a JSON object`)
  const format = json.format
  if (format === 'tessera-prior' || format === 'tessera-dvae') {
    throw new BundleFormatError(
      `${where} is a ${format} directory, not a model bundle: assemble one with tessera bundle --prior PRIOR_DIR --dvae DVAE_DIR --out DIR`,
    )
  }
  if (format !== BUNDLE_FORMAT) throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST} has format ${JSON.stringify(format)}; a model bundle's is '${BUNDLE_FORMAT}'`)
  if (json.version !== BUNDLE_VERSION) throw new BundleFormatError(`${where} is bundle format version ${JSON.stringify(json.version)}; this @tessera/dalle reads version ${BUNDLE_VERSION}`)
  if (!isObject(json.components)) throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST} has no components`)
  for (const [name, roles] of Object.entries(COMPONENT_FILES)) {
    const entry = json.components[name]
    if (!isObject(entry)) throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST} lists no ${name} component (a bundle needs ${Object.keys(COMPONENT_FILES).join(', ')})`)
    if (typeof entry.kind !== 'string' || !isObject(entry.config) || !isObject(entry.files)) {
      throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST}: the ${name} component needs kind, config and files`)
    }
    for (const role of roles) {
      if (typeof entry.files[role] !== 'string') throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST}: the ${name} component lists no ${role} file`)
    }
  }
  const sampling = json.sampling
  if (sampling !== undefined && !(isObject(sampling) && Object.entries(sampling).every(([k, v]) => ['topK', 'topP', 'temperature', 'guidance'].includes(k) && typeof v === 'number'))) {
    throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST}: sampling may set topK, topP, temperature and guidance, as numbers; got ${JSON.stringify(sampling)}`)
  }
  const clip = json.components.clip
  if (clip !== undefined && !(isObject(clip) && typeof clip.kind === 'string' && isObject(clip.files))) {
    throw new BundleFormatError(`${where}/${BUNDLE_MANIFEST}: the clip component needs kind, config and files`)
  }
  return json as unknown as BundleManifest
}

/** The configs checked one by one and against each other (before any weights are read). */
export function checkConfigs(manifest: BundleManifest): { dvae: DvaeConfig; prior: ResolvedPriorConfig } {
  const { dvae: d, prior: p, textTokenizer: t } = manifest.components
  const config = <T>(component: ComponentName, resolve: () => T): T => {
    try {
      return resolve()
    } catch (error) {
      throw new CorruptComponentError(component, BUNDLE_MANIFEST, `its config cannot build a model: ${(error as Error).message}`)
    }
  }
  const dvae = config('dvae', () => resolveDvaeConfig(d.config))
  const prior = config('prior', () => resolvePriorConfig(p.config))
  if (prior.imageVocabSize !== dvae.vocabSize) {
    throw new ComponentMismatchError('prior', 'dvae', `the prior draws from ${prior.imageVocabSize} image tokens, the dVAE's codebook has ${dvae.vocabSize}`)
  }
  const side = tokenGridSize(dvae)
  if (prior.gridSize[0] !== side || prior.gridSize[1] !== side) {
    throw new ComponentMismatchError('prior', 'dvae', `the prior's grid is ${prior.gridSize.join('×')} tokens, the dVAE encodes ${dvae.imageSize}² images to ${side}×${side}`)
  }
  checkTokenizer(prior, t.config.vocabSize, undefined)
  return { dvae, prior }
}

/** The tokenizer's vocabulary and pad id against the prior's text side. */
export function checkTokenizer(prior: ResolvedPriorConfig, vocabSize: number, padId: number | undefined): void {
  if (vocabSize !== prior.textVocabSize) {
    throw new ComponentMismatchError('textTokenizer', 'prior', `the tokenizer has ${vocabSize} ids, the prior's text vocabulary ${prior.textVocabSize}`)
  }
  if (padId !== undefined && padId !== prior.padId) {
    throw new ComponentMismatchError('textTokenizer', 'prior', `the tokenizer's pad token is id ${padId}, the prior pads with ${prior.padId}`)
  }
}
