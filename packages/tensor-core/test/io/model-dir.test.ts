import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TesseraError } from '../../src/errors.js'
import { MODEL_MANIFEST_FILE, parseSafetensors, readModelManifest, readModelWeights, serializeSafetensors, writeSafetensorsFile, type ModelManifestSpec } from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

class ToyWeightsError extends TesseraError {
  static override readonly code: string = 'toy_weights'
}

const makeDir = useTempDirs()
const spec: ModelManifestSpec = { format: 'tessera-toy', what: 'toy', holds: 'manifest.json and toy.safetensors', writer: 'saveToy', fail: (message, options) => new ToyWeightsError(message, options) }
const tensors = { 'a.weight': { dtype: 'f32' as const, shape: [2], data: Float32Array.of(1, 2) }, b: { dtype: 'i32' as const, shape: [1], data: Int32Array.of(7) } }

describe('model weights directories', () => {
  it('readModelManifest: the parsed manifest of the given format', async () => {
    const dir = await makeDir()
    await writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify({ format: 'tessera-toy', version: 1, config: { width: 3 }, note: 'x' }))
    expect(await readModelManifest(dir, spec)).toEqual({ format: 'tessera-toy', version: 1, config: { width: 3 }, note: 'x' })
  })

  it("readModelManifest: missing, not JSON, or another format is the model's own error naming the file", async () => {
    const dir = await makeDir()
    await expect(readModelManifest(dir, spec)).rejects.toThrow(new ToyWeightsError(`no manifest.json in ${dir}: a toy weights directory holds manifest.json and toy.safetensors`))
    const path = join(dir, MODEL_MANIFEST_FILE)
    await writeFile(path, '<html>')
    const notJson = (await readModelManifest(dir, spec).catch((e: unknown) => e)) as ToyWeightsError
    expect(notJson).toBeInstanceOf(ToyWeightsError)
    expect(notJson.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not JSON \\(.+\\): a toy manifest is what saveToy writes$`))
    expect(notJson.cause).toBeInstanceOf(SyntaxError)
    for (const [text, format] of [['null', 'undefined'], ['{"format":"tessera-dvae"}', '"tessera-dvae"']]) {
      await writeFile(path, text!)
      await expect(readModelManifest(dir, spec)).rejects.toThrow(new ToyWeightsError(`${path} is not a toy manifest (format ${format})`))
    }
  })

  it('readModelWeights: every tensor of the file; a missing or broken one is the error naming it', async () => {
    const dir = await makeDir()
    await writeSafetensorsFile(join(dir, 'toy.safetensors'), tensors)
    const read = await readModelWeights(dir, 'toy.safetensors', spec.fail)
    expect(Object.keys(read)).toEqual(['a.weight', 'b'])
    expect(Array.from(read['a.weight']!.data)).toEqual([1, 2])
    const missing = (await readModelWeights(dir, 'none.safetensors', spec.fail).catch((e: unknown) => e)) as Error
    expect(missing).toBeInstanceOf(ToyWeightsError)
    expect(missing.message).toMatch(new RegExp(`^cannot read ${join(dir, 'none.safetensors').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `))
    await writeFile(join(dir, 'bad.safetensors'), 'not safetensors at all')
    await expect(readModelWeights(dir, 'bad.safetensors', spec.fail)).rejects.toBeInstanceOf(ToyWeightsError)
  })

  it('SafetensorsFile.getAll: every tensor by name, in file order', () => {
    const all = parseSafetensors(serializeSafetensors(tensors)).getAll()
    expect(Object.keys(all)).toEqual(['a.weight', 'b'])
    expect(Array.from(all.b!.data)).toEqual([7])
  })
})
