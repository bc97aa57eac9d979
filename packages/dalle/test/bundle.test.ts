import { loadDvae } from '@tessera/dvae'
import { loadPrior } from '@tessera/prior'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BundleFormatError,
  BundleNotFoundError,
  ComponentMismatchError,
  CorruptComponentError,
  loadBundle,
  MissingComponentError,
  saveBundle,
  urlSource,
  type BundleManifest,
} from '../src/index.js'
import { cpuDevice, tinyBundleDir, tinyParts } from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = await tinyBundleDir(await cpuDevice())
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A copy of the bundle with `change` applied, loaded; the error it throws. */
async function loadBroken(change: (copy: string) => Promise<void>): Promise<unknown> {
  const copy = await mkdtemp(join(tmpdir(), 'dalle-broken-'))
  await cp(dir, copy, { recursive: true })
  await change(copy)
  try {
    ;(await loadBundle(await cpuDevice(), copy)).dispose()
    return null
  } catch (error) {
    return error
  } finally {
    await rm(copy, { recursive: true, force: true })
  }
}

async function editManifest(copy: string, edit: (m: BundleManifest) => void): Promise<void> {
  const m = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as BundleManifest
  edit(m)
  await writeFile(join(copy, 'manifest.json'), JSON.stringify(m))
}

async function listFiles(root: string, sub = root): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(sub, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listFiles(root, join(sub, e.name))))
    else out.push(relative(root, join(sub, e.name)))
  }
  return out.sort()
}

describe('bundle round trip', () => {
  it('saveBundle → loadBundle gives the same tokenizer, weights and manifest', async () => {
    const device = await cpuDevice()
    const parts = await tinyParts(device)
    const bundle = await loadBundle(device, dir)
    expect(await listFiles(dir)).toEqual(['dvae/decoder.safetensors', 'dvae/encoder.safetensors', 'dvae/manifest.json', 'manifest.json', 'prior/manifest.json', 'prior/prior.safetensors', 'tokenizer.json'])
    expect(bundle.manifest.format).toBe('tessera-bundle')
    expect(bundle.manifest.version).toBe(1)
    expect(bundle.manifest.training).toEqual({ note: 'untrained: for tests' })
    expect(bundle.manifest.metrics).toEqual({ heldOutImageCe: 4.2 })
    expect(Object.keys(bundle.manifest.components)).toEqual(['textTokenizer', 'dvae', 'prior'])
    expect(bundle.tokenizer.encode('a red heart')).toEqual(parts.tokenizer.encode('a red heart'))
    for (const [a, b] of [[bundle.prior, parts.prior], [bundle.dvae, parts.dvae]] as const) {
      const [x, y] = [await a.hostStateDict(), await b.hostStateDict()]
      expect(Object.keys(x).sort()).toEqual(Object.keys(y).sort())
      for (const name of Object.keys(x)) expect([...x[name]!.data], name).toEqual([...y[name]!.data])
    }
    bundle.dispose()
    parts.dvae.dispose()
    parts.prior.dispose()
  })

  it("each component's folder is still its package's own directory layout (loadDvae, loadPrior)", async () => {
    const device = await cpuDevice()
    const { model, manifest } = await loadDvae(device, join(dir, 'dvae'))
    expect(manifest.format).toBe('tessera-dvae')
    const { prior } = await loadPrior(device, join(dir, 'prior'))
    expect(prior.config.gridSize).toEqual([model.gridSize, model.gridSize])
    model.dispose()
    prior.dispose()
  })

  it('loads from a file: URL, from a base URL through fetch, and from File objects (a browser file picker)', async () => {
    const device = await cpuDevice()
    const reference = await loadBundle(device, dir)
    const probe = reference.encodePrompt('a blue star')
    const text = device.tensor(probe, [1, probe.length])
    const image = device.tensor(new Int32Array(16), [1, 16])
    const want = [...(await reference.prior.imageLogits(text, image).read())]
    // A fetch that serves the directory, with 404 for missing files: the browser path without a server.
    const served: typeof fetch = async (url) => {
      try {
        return new Response(await readFile(join(dir, new URL(url as URL).pathname.replace('/bundle/', ''))))
      } catch {
        return new Response('not found', { status: 404 })
      }
    }
    const files = new Map<string, File>()
    for (const f of await listFiles(dir)) files.set(`picked/${f}`, new File([await readFile(join(dir, f))], f.split('/').pop()!))
    for (const location of [pathToFileURL(dir), urlSource('http://models.test/bundle', served), files]) {
      const bundle = await loadBundle(device, location)
      expect([...(await bundle.prior.imageLogits(text, image).read())]).toEqual(want)
      bundle.dispose()
    }
    reference.dispose()
  })
})

describe('typed bundle errors name the component', () => {
  it('no bundle at the path', async () => {
    const error = await loadBundle(await cpuDevice(), join(dir, 'nothing-here')).catch((e) => e)
    expect(error).toBeInstanceOf(BundleNotFoundError)
    expect(error.message).toContain('no model bundle at')
  })

  it('a prior directory is not a bundle: the message says how to make one', async () => {
    const error = await loadBundle(await cpuDevice(), join(dir, 'prior')).catch((e) => e)
    expect(error).toBeInstanceOf(BundleFormatError)
    expect(error.message).toMatch(/tessera-prior directory.*tessera bundle --prior/)
  })

  it('another format version', async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => ((m as { version: number }).version = 2)))
    expect(error).toBeInstanceOf(BundleFormatError)
    expect((error as Error).message).toMatch(/version 2.*reads version 1/)
  })

  it('a component missing from the manifest', async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => delete (m.components as Partial<BundleManifest['components']>).prior))
    expect(error).toBeInstanceOf(BundleFormatError)
    expect((error as Error).message).toContain('no prior component')
  })

  it.each([
    ['dvae', 'dvae/decoder.safetensors'],
    ['prior', 'prior/prior.safetensors'],
    ['textTokenizer', 'tokenizer.json'],
  ] as const)('a missing %s file', async (component, file) => {
    const error = await loadBroken((c) => rm(join(c, file)))
    expect(error).toBeInstanceOf(MissingComponentError)
    expect(error).toMatchObject({ component, file })
    expect((error as Error).message).toContain(file)
  })

  it.each([
    ['dvae', 'dvae/encoder.safetensors', /not a readable safetensors file/],
    ['prior', 'prior/prior.safetensors', /not a readable safetensors file/],
    ['textTokenizer', 'tokenizer.json', /not a @tessera\/bpe tokenizer JSON/],
  ] as const)('a corrupt (truncated) %s file', async (component, file, why) => {
    const error = await loadBroken(async (c) => {
      const bytes = await readFile(join(c, file))
      await writeFile(join(c, file), bytes.subarray(0, Math.floor(bytes.length / 2)))
    })
    expect(error).toBeInstanceOf(CorruptComponentError)
    expect(error).toMatchObject({ component, file })
    expect((error as Error).message).toMatch(why)
  })

  it("weights that do not fit the component's config", async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => (m.components.prior.config.width = 64)))
    expect(error).toBeInstanceOf(CorruptComponentError)
    expect(error).toMatchObject({ component: 'prior' })
    expect((error as Error).message).toContain('do not fit the config')
  })

  it("the prior's image vocabulary is not the dVAE's codebook", async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => (m.components.prior.config.imageVocabSize = 32)))
    expect(error).toBeInstanceOf(ComponentMismatchError)
    expect(error).toMatchObject({ component: 'prior', other: 'dvae' })
    expect((error as Error).message).toContain("the prior draws from 32 image tokens, the dVAE's codebook has 64")
  })

  it("the prior's grid is not the dVAE's", async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => (m.components.prior.config.gridSize = [4, 5])))
    expect(error).toBeInstanceOf(ComponentMismatchError)
    expect((error as Error).message).toContain("the prior's grid is 4×5 tokens, the dVAE encodes 32² images to 4×4")
  })

  it("the tokenizer's vocabulary is not the prior's text vocabulary", async () => {
    const error = await loadBroken((c) => editManifest(c, (m) => (m.components.prior.config.textVocabSize += 1)))
    expect(error).toBeInstanceOf(ComponentMismatchError)
    expect(error).toMatchObject({ component: 'textTokenizer', other: 'prior' })
  })

  it('saveBundle refuses parts that do not fit, before writing anything', async () => {
    const device = await cpuDevice()
    const parts = await tinyParts(device)
    const { DiscreteVAE } = await import('@tessera/dvae')
    const other = new DiscreteVAE(device, 'emoji-32')
    const out = join(tmpdir(), `dalle-refused-${process.pid}`)
    await expect(saveBundle(out, { ...parts, dvae: other })).rejects.toBeInstanceOf(ComponentMismatchError)
    await expect(readdir(out)).rejects.toThrow()
    other.dispose()
    parts.dvae.dispose()
    parts.prior.dispose()
  })
})
