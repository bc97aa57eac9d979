/**
 * One error family (#20): every error class each Tessera package exports is a TesseraError with a
 * stable `code`, including the packages that do not depend on the tensor core (bpe, datasets): all
 * build on the one base in @tessera/errors and re-export it; and files that are not what they
 * claim give typed errors naming them.
 */
import * as bpe from '@tessera/bpe'
import * as clip from '@tessera/clip-rerank'
import * as datasets from '@tessera/datasets'
import * as dvae from '@tessera/dvae'
import * as errors from '@tessera/errors'
import * as plugins from '@tessera/plugins'
import * as prior from '@tessera/prior'
import * as models from '@tessera/models'
import * as core from '@tessera/tensor-core'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as dalle from '../src/index.js'
import { cpuDevice } from './helpers.js'

// Namespaces that hold error classes count as packages of their own (core.io: weights and checkpoint files).
const packages = { errors, core, 'core.io': core.io, bpe, datasets, plugins, dvae, prior, clip, dalle, models } as Record<string, Record<string, unknown>>

/** Every exported class whose name ends in Error, per package. */
const errorClasses = Object.entries(packages).flatMap(([pkg, exports]) =>
  Object.entries(exports)
    .filter(([name, value]) => /^[A-Z]\w*Error$/.test(name) && typeof value === 'function')
    .map(([name, value]) => ({ pkg, name, cls: value as (abstract new (...args: never[]) => Error) & { code?: string } })),
)

describe('one error family', () => {
  it('every package re-exports the one base of @tessera/errors', () => {
    for (const pkg of [core, bpe, datasets]) {
      expect(pkg.TesseraError).toBe(errors.TesseraError)
      expect(pkg.isTesseraError).toBe(errors.isTesseraError)
      expect(pkg.TESSERA_ERROR_BRAND).toBe(errors.TESSERA_ERROR_BRAND)
    }
    expect(core.InvalidArgumentError).toBe(errors.InvalidArgumentError)
    expect(bpe.InvalidArgumentError).toBe(errors.InvalidArgumentError)
  })

  it('every exported error class of every package is a TesseraError, branded', () => {
    expect(errorClasses.length).toBeGreaterThan(40)
    for (const { pkg, name, cls } of errorClasses) {
      const instance = Object.create(cls.prototype) as Error
      expect(instance instanceof errors.TesseraError, `${pkg}.${name} instanceof TesseraError`).toBe(true)
      expect((instance as unknown as Record<symbol, unknown>)[Symbol.for('tessera.error')], `${pkg}.${name} carries the brand`).toBe(true)
      expect(core.isTesseraError(instance), `${pkg}.${name}`).toBe(true)
      expect(typeof cls.code === 'string' && cls.code.length > 0, `${pkg}.${name} has a static code`).toBe(true)
    }
    // Subclass checks keep their meaning: a bpe error is not a ShapeError.
    expect(new bpe.BpeFormatError('x') instanceof core.ShapeError).toBe(false)
    expect(new core.ShapeError('x') instanceof bpe.BpeError).toBe(false)
    expect(new Error('x') instanceof core.TesseraError).toBe(false)
  })

  it('codes are stable and distinct per class (renaming one is a breaking change)', () => {
    const codes = Object.fromEntries(errorClasses.filter(({ name }) => name !== 'TesseraError').map(({ pkg, name, cls }) => [`${pkg}.${name}`, cls.code]))
    expect(codes).toMatchObject({
      'core.ShapeError': 'shape',
      'core.DTypeError': 'dtype',
      'core.AdapterError': 'adapter',
      'core.DeviceLimitError': 'device_limit',
      'core.TensorStateError': 'tensor_state',
      'core.InvalidArgumentError': 'invalid_argument',
      'core.io.CheckpointError': 'checkpoint',
      'core.io.CheckpointChecksumError': 'checkpoint_checksum',
      'core.TrainingError': 'training',
      'bpe.BpeFormatError': 'bpe_format',
      'bpe.VocabularyNotFoundError': 'vocabulary_not_found',
      'datasets.ImageTooLargeError': 'image_too_large',
      'datasets.ImageTruncatedError': 'image_truncated',
      'dvae.DvaeWeightsError': 'dvae_weights',
      'plugins.PluginNotFoundError': 'plugin_not_found',
      'dalle.CorruptComponentError': 'corrupt_component',
    })
    // One class, one code (re-exports such as dvae's DvaeTrainingError = TrainingError, or every
    // package's TesseraError and InvalidArgumentError, are one class).
    const byClass = new Map<unknown, string>()
    for (const { cls } of errorClasses) byClass.set(cls, cls.code!)
    const seen = new Map<string, unknown>()
    for (const [cls, code] of byClass) {
      if (code === 'tessera') continue // the base, and SafetensorsError, whose instances carry per-cause codes
      expect(seen.get(code) ?? cls, `code ${code} used by two classes`).toBe(cls)
      seen.set(code, cls)
    }
  })

  it('instances carry their code; SafetensorsError keeps its per-cause codes', () => {
    expect(new core.ShapeError('x').code).toBe('shape')
    expect(new core.io.SafetensorsError('truncated', 'x')).toMatchObject({ code: 'truncated', name: 'SafetensorsError' })
    expect(new core.io.SafetensorsError('truncated', 'x')).toBeInstanceOf(bpe.TesseraError)
  })
})

describe('files that are not what they claim', () => {
  it('loadDvae and loadClip on a manifest that is not JSON: a typed error naming the file', async () => {
    const device = await cpuDevice()
    const dir = await mkdtemp(join(tmpdir(), 'bad-manifest-'))
    try {
      await writeFile(join(dir, 'manifest.json'), '<html>not json</html>')
      const error = await dvae.loadDvae(device, dir).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(dvae.DvaeWeightsError)
      expect((error as Error).message).toContain(join(dir, 'manifest.json'))
      expect((error as Error).message).toMatch(/is not JSON/)
      await expect(clip.loadClip(device, dir)).rejects.toThrow(clip.ClipWeightsError)
      await writeFile(join(dir, 'manifest.json'), 'null')
      await expect(dvae.loadDvae(device, dir)).rejects.toThrow(/is not a dVAE manifest/)
      await expect(prior.loadPrior(device, dir)).rejects.toThrow(prior.PriorConfigError)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a bundle source that fails (HTTP 500, a network error) is a BundleSourceError naming the file', async () => {
    const device = await cpuDevice()
    const failing = dalle.urlSource('http://bundle.invalid/', async () => new Response('oops', { status: 500 }))
    await expect(failing.read('manifest.json')).rejects.toMatchObject({ code: 'bundle_source', message: expect.stringMatching(/manifest\.json.*HTTP 500/) })
    const offline = dalle.urlSource('http://bundle.invalid/', async () => {
      throw new TypeError('fetch failed')
    })
    await expect(dalle.loadBundle(device, offline)).rejects.toBeInstanceOf(core.TesseraError)
  })
})
