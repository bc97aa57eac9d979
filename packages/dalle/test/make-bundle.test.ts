import { saveDvae } from '@tessera/dvae'
import { savePrior } from '@tessera/prior'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBundle } from '../src/index.js'
import { cpuDevice, tinyParts } from './helpers.js'

const SCRIPT = fileURLToPath(new URL('../scripts/make-bundle.mjs', import.meta.url))
let work: string

// What training leaves: a prior directory (savePrior) with tokenizer.json beside, and a dVAE directory.
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'make-bundle-'))
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

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 })

describe('scripts/make-bundle.mjs', () => {
  it('assembles a bundle from a prior directory, its tokenizer and a dVAE directory, keeping their provenance', async () => {
    const out = join(work, 'bundle')
    const made = run('--prior', join(work, 'prior'), '--dvae', join(work, 'dvae'), '--out', out, '--note', 'test')
    expect(made.stderr).toBe('')
    expect(made.status).toBe(0)
    expect(made.stdout).toMatch(/^wrote .*bundle: prior 2 layers × 32/)
    const bundle = await loadBundle(await cpuDevice(), out)
    const { components, training } = bundle.manifest
    expect(components.prior.provenance).toMatchObject({ source: join(work, 'prior'), training: { steps: 0, heldOut: { imageCe: 4.1 } } })
    expect(components.dvae.provenance).toMatchObject({ recipe: { steps: 0 } })
    expect(training).toMatchObject({ note: 'test' })
    expect(training!.assembled).toContain('make-bundle.mjs --prior')
    bundle.dispose()
  })

  it("refuses parts that do not fit, naming both (a prior for 4×4 grids with dvae-emoji-32's 8×8)", () => {
    const made = run('--prior', join(work, 'prior'), '--dvae', 'dvae-emoji-32', '--out', join(work, 'refused'))
    expect(made.status).toBe(1)
    expect(made.stderr.trim()).toBe("make-bundle: the prior does not fit the dvae: the prior draws from 64 image tokens, the dVAE's codebook has 512")
  })
})
