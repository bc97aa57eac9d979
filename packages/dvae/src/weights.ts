import { nn, io } from '@tessera/tensor-core'
import { resolveConfig, type DvaeConfig } from './config.js'
import { DiscreteVAE } from './dvae.js'
import { DvaeWeightsError } from './errors.js'
import type { Device } from '@tessera/tensor-core'

/** File names inside a dVAE weights directory: one safetensors per half, as OpenAI ships one pickle per half. */
export const ENCODER_FILE = 'encoder.safetensors'
export const DECODER_FILE = 'decoder.safetensors'
export const MANIFEST_FILE = 'manifest.json'

/** manifest.json of a weights directory: the config plus free-form provenance (recipe, metrics). */
export interface DvaeManifest {
  format: 'tessera-dvae'
  version: 1
  config: DvaeConfig
  [key: string]: unknown
}

/** Loads one half's tensors; a name or shape mismatch becomes a DvaeWeightsError that says which file. */
function loadHalf(module: nn.Module, tensors: Record<string, io.HostTensor>, file: string): void {
  try {
    module.loadStateDict(tensors)
  } catch (error) {
    if (error instanceof nn.StateDictError) {
      throw new DvaeWeightsError(`${file} does not fit the model: ${error.message}. Check that the config matches the weights (manifest.json) and that the file was written by the converter.`)
    }
    throw error
  }
}

/** Loads weights given as in-memory safetensors bytes (browser: fetched files). */
export function loadWeightsFromBytes(model: DiscreteVAE, files: { encoder: Uint8Array; decoder: Uint8Array }): void {
  for (const [half, bytes, file] of [[model.encoder, files.encoder, ENCODER_FILE], [model.decoder, files.decoder, DECODER_FILE]] as const) {
    const parsed = io.parseSafetensors(bytes)
    loadHalf(half, Object.fromEntries(parsed.names().map((n) => [n, parsed.get(n)])), file)
  }
}

/** Reads manifest.json of a weights directory (Node). */
export async function readManifest(dir: string): Promise<DvaeManifest> {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  let text: string
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  } catch {
    throw new DvaeWeightsError(`no ${MANIFEST_FILE} in ${dir}: a dVAE weights directory holds ${MANIFEST_FILE}, ${ENCODER_FILE} and ${DECODER_FILE}`)
  }
  const path = join(dir, MANIFEST_FILE)
  let manifest: DvaeManifest | null
  try {
    manifest = JSON.parse(text) as DvaeManifest | null
  } catch (error) {
    throw new DvaeWeightsError(`${path} is not JSON (${(error as Error).message}): a dVAE manifest is what saveDvae writes`, { cause: error })
  }
  if (manifest?.format !== 'tessera-dvae') throw new DvaeWeightsError(`${path} is not a dVAE manifest (format ${JSON.stringify(manifest?.format)})`)
  return { ...manifest, config: resolveConfig(manifest.config) }
}

/** Builds the model a weights directory describes and loads its weights (Node). */
export async function loadDvae(device: Device, dir: string): Promise<{ model: DiscreteVAE; manifest: DvaeManifest }> {
  const { join } = await import('node:path')
  const manifest = await readManifest(dir)
  const model = new DiscreteVAE(device, manifest.config)
  try {
    for (const [half, file] of [[model.encoder, ENCODER_FILE], [model.decoder, DECODER_FILE]] as const) {
      let tensors: Record<string, io.HostTensor>
      try {
        tensors = (await io.readSafetensorsFile(join(dir, file))).tensors
      } catch (error) {
        throw new DvaeWeightsError(`cannot read ${join(dir, file)}: ${(error as Error).message}`)
      }
      loadHalf(half, tensors, file)
    }
  } catch (error) {
    model.dispose()
    throw error
  }
  return { model, manifest }
}

/** Writes encoder/decoder safetensors (OpenAI's names) and manifest.json (Node). */
export async function saveDvae(model: DiscreteVAE, dir: string, provenance: Record<string, unknown> = {}): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  await mkdir(dir, { recursive: true })
  await io.writeSafetensorsFile(join(dir, ENCODER_FILE), await model.encoder.hostStateDict())
  await io.writeSafetensorsFile(join(dir, DECODER_FILE), await model.decoder.hostStateDict())
  const manifest: DvaeManifest = { format: 'tessera-dvae', version: 1, config: model.config, ...provenance }
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n')
}
