import { saveDvae } from '@tessera/dvae'
import { modelUrl } from '@tessera/models'
import { savePrior } from '@tessera/prior'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assembleBundle, ComponentMismatchError, CorruptComponentError, loadBundle, MissingComponentError } from '../src/index.js'
import { cpuDevice, tinyParts } from './helpers.js'

let work: string

// What training leaves: a prior directory (savePrior) with tokenizer.json beside, and a dVAE directory.
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'assemble-bundle-'))
  const { tokenizer, dvae, prior } = await tinyParts(await cpuDevice())
  await savePrior(prior, join(work, 'prior'), { training: { steps: 0, heldOut: { imageCe: 4.1 } } })
  await writeFile(join(work, 'prior', 'tokenizer.json'), JSON.stringify(tokenizer))
  await saveDvae(dvae, join(work, 'dvae'), { recipe: { steps: 0 } })
  dvae.dispose()
  prior.dispose()
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('assembleBundle', () => {
  it('assembles a bundle from a prior directory, its tokenizer and a dVAE directory, keeping their provenance', async () => {
    const out = join(work, 'bundle')
    await assembleBundle(await cpuDevice(), out, { prior: join(work, 'prior'), dvae: join(work, 'dvae'), sources: { dvae: 'the tiny dVAE' }, training: { note: 'test' }, sampling: { topK: 8 } })
    const bundle = await loadBundle(await cpuDevice(), out)
    const { components, training, sampling } = bundle.manifest
    expect(components.prior.provenance).toMatchObject({ source: join(work, 'prior'), training: { steps: 0, heldOut: { imageCe: 4.1 } } })
    expect(components.dvae.provenance).toMatchObject({ source: 'the tiny dVAE', recipe: { steps: 0 } })
    expect(components.textTokenizer.provenance).toEqual({ source: join(work, 'prior', 'tokenizer.json') })
    expect(training).toEqual({ note: 'test' })
    expect(sampling).toEqual({ topK: 8 })
    bundle.dispose()
  })

  it("refuses parts that do not fit, naming both (a prior for 4×4 grids with dvae-emoji-32's 8×8), and writes nothing", async () => {
    const out = join(work, 'refused')
    const error = await assembleBundle(await cpuDevice(), out, { prior: join(work, 'prior'), dvae: fileURLToPath(modelUrl('dvae-emoji-32')) }).catch((e) => e)
    expect(error).toBeInstanceOf(ComponentMismatchError)
    expect(error.message).toBe("the prior does not fit the dvae: the prior draws from 64 image tokens, the dVAE's codebook has 512")
    await expect(loadBundle(await cpuDevice(), out)).rejects.toThrow(/no model bundle at/)
  })

  it('a missing tokenizer file or one that is not a tokenizer is a typed error naming it', async () => {
    const missing = await assembleBundle(await cpuDevice(), join(work, 'x'), { prior: join(work, 'prior'), dvae: join(work, 'dvae'), tokenizer: join(work, 'nowhere.json') }).catch((e) => e)
    expect(missing).toBeInstanceOf(MissingComponentError)
    expect(missing.message).toBe(`the textTokenizer component's file nowhere.json is missing from ${work} (give the tokenizer JSON the prior was trained with)`)
    await writeFile(join(work, 'bad.json'), '{"not": "a tokenizer"}')
    const bad = await assembleBundle(await cpuDevice(), join(work, 'x'), { prior: join(work, 'prior'), dvae: join(work, 'dvae'), tokenizer: join(work, 'bad.json') }).catch((e) => e)
    expect(bad).toBeInstanceOf(CorruptComponentError)
    expect(bad.message).toMatch(/bad\.json.*not a @tessera\/bpe tokenizer JSON/)
  })
})
