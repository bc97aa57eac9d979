/**
 * A model's weights directory (Node only; `node:fs` is imported lazily): a `manifest.json` whose
 * `format` names the model kind (`tessera-dvae`, `tessera-clip`, …) beside its safetensors files,
 * as each model package's save function writes it. Reading one fails with the model package's own
 * error class (`fail`), in messages that name the file and say what was expected.
 */
import type { TesseraErrorOptions } from '@tessera/errors'
import type { HostTensor } from './host-tensor.js'
import { readSafetensorsFile } from './node-safetensors-file.js'

export const MODEL_MANIFEST_FILE = 'manifest.json'

/** Makes the model package's error (a TesseraError subclass) for a message. */
export type ModelDirError = (message: string, options?: TesseraErrorOptions) => Error

export interface ModelManifestSpec {
  /** The `format` the manifest must carry, e.g. 'tessera-dvae'. */
  format: string
  /** The model in messages: 'dVAE', 'CLIP'. */
  what: string
  /** What a directory of this kind holds, for the message when manifest.json is missing. */
  holds: string
  /** What writes such a manifest, for the message when it is not JSON: 'saveDvae'. */
  writer: string
  fail: ModelDirError
}

/** Reads `dir/manifest.json` and checks its `format`: missing, not JSON, or another format is `spec.fail`'s error. */
export async function readModelManifest<M extends { format: string }>(dir: string, spec: ModelManifestSpec): Promise<M> {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const path = join(dir, MODEL_MANIFEST_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw spec.fail(`no ${MODEL_MANIFEST_FILE} in ${dir}: a ${spec.what} weights directory holds ${spec.holds}`)
  }
  let manifest: M | null
  try {
    manifest = JSON.parse(text) as M | null
  } catch (error) {
    throw spec.fail(`${path} is not JSON (${(error as Error).message}): a ${spec.what} manifest is what ${spec.writer} writes`, { cause: error })
  }
  if (manifest?.format !== spec.format) throw spec.fail(`${path} is not a ${spec.what} manifest (format ${JSON.stringify(manifest?.format)})`)
  return manifest
}

/** Every tensor of the safetensors file `dir/file`; a file that is missing or unreadable is `fail`'s error naming it. */
export async function readModelWeights(dir: string, file: string, fail: ModelDirError): Promise<Record<string, HostTensor>> {
  const { join } = await import('node:path')
  const path = join(dir, file)
  try {
    return (await readSafetensorsFile(path)).tensors
  } catch (error) {
    throw fail(`cannot read ${path}: ${(error as Error).message}`)
  }
}
