import { nn, io } from '@tessera/tensor-core'
import { resolveConfig, type DvaeConfig } from './config.js'
import { DiscreteVAE } from './dvae.js'
import { DvaeWeightsError } from './errors.js'
import type { Device } from '@tessera/tensor-core'

/** File names inside a dVAE weights directory: one safetensors per half, as OpenAI ships one pickle per half. */
export const ENCODER_FILE = 'encoder.safetensors'
export const DECODER_FILE = 'decoder.safetensors'
export const MANIFEST_FILE = io.MODEL_MANIFEST_FILE

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
    loadHalf(half, io.parseSafetensors(bytes).getAll(), file)
  }
}

const fail: io.ModelDirError = (message, options) => new DvaeWeightsError(message, options)

/** Reads manifest.json of a weights directory (Node). */
export async function readManifest(dir: string): Promise<DvaeManifest> {
  const manifest = await io.readModelManifest<DvaeManifest>(dir, { format: 'tessera-dvae', what: 'dVAE', holds: `${MANIFEST_FILE}, ${ENCODER_FILE} and ${DECODER_FILE}`, writer: 'saveDvae', fail })
  return { ...manifest, config: resolveConfig(manifest.config) }
}

/** Builds the model a weights directory describes and loads its weights (Node). */
export async function loadDvae(device: Device, dir: string): Promise<{ model: DiscreteVAE; manifest: DvaeManifest }> {
  const manifest = await readManifest(dir)
  const model = new DiscreteVAE(device, manifest.config)
  try {
    for (const [half, file] of [[model.encoder, ENCODER_FILE], [model.decoder, DECODER_FILE]] as const) loadHalf(half, await io.readModelWeights(dir, file, fail), file)
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
