import { nn, type Device, io } from '@tessera/tensor-core'
import type { PriorConfig } from './config.js'
import { PriorConfigError } from './errors.js'
import { Prior } from './prior.js'

export const PRIOR_MANIFEST = 'manifest.json'
export const PRIOR_WEIGHTS = 'prior.safetensors'

/** manifest.json of a prior directory: the config plus free-form provenance (recipe, metrics). */
export interface PriorManifest {
  format: 'tessera-prior'
  version: 1
  config: PriorConfig
  [key: string]: unknown
}

/** Builds the prior a directory describes and loads its weights (Node); typed errors name the file. */
export async function loadPrior(device: Device, dir: string): Promise<{ prior: Prior; manifest: PriorManifest }> {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const manifestPath = join(dir, PRIOR_MANIFEST)
  let manifest: PriorManifest | null
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8'))
  } catch (error) {
    throw new PriorConfigError(`cannot read ${manifestPath}: ${(error as Error).message}`)
  }
  if (manifest?.format !== 'tessera-prior') throw new PriorConfigError(`${manifestPath} is not a prior manifest (format ${JSON.stringify(manifest?.format)})`)
  const prior = new Prior(device, manifest.config)
  try {
    const tensors = await io.readModelWeights(dir, PRIOR_WEIGHTS, (message) => new PriorConfigError(message))
    try {
      prior.loadStateDict(tensors)
    } catch (error) {
      if (error instanceof nn.StateDictError) throw new PriorConfigError(`${join(dir, PRIOR_WEIGHTS)} does not fit the config in ${PRIOR_MANIFEST}: ${error.message}`)
      throw error
    }
  } catch (error) {
    prior.dispose()
    throw error
  }
  return { prior, manifest }
}

/** Writes prior.safetensors and manifest.json (config + provenance), each atomically (Node). */
export async function savePrior(prior: Prior, dir: string, provenance: Record<string, unknown> = {}): Promise<void> {
  const { mkdir } = await import('node:fs/promises')
  const { join } = await import('node:path')
  await mkdir(dir, { recursive: true })
  await io.writeSafetensorsFile(join(dir, PRIOR_WEIGHTS), await prior.hostStateDict())
  const manifest: PriorManifest = { format: 'tessera-prior', version: 1, config: prior.config, ...provenance }
  await io.writeFileAtomic(join(dir, PRIOR_MANIFEST), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'))
}
