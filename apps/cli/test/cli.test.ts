import { writeTinyBundle } from '@tessera/dalle/testing'
import { decodePng } from '@tessera/datasets'
import { Device } from '@tessera/tensor-core'
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tessera } from './run-cli.js'

let work: string
let model: string

async function expectPngs(files: string[], size: number) {
  for (const file of files) {
    const image = await decodePng(new Uint8Array(await readFile(file)))
    expect([image.width, image.height], file).toEqual([size, size])
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-cli-'))
  model = join(work, 'bundle')
  const device = await Device.create({ backend: 'cpu' })
  await writeTinyBundle(device, model)
  device.destroy()
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('tessera generate', () => {
  it('writes K PNGs and a grid, and --json prints one object with the files, scores and seconds (WebGPU when there is an adapter)', async () => {
    const out = join(work, 'hearts')
    const run = await tessera(['generate', 'a red heart', '--model', model, '--count', '4', '--keep', '2', '--seed', '1', '--out', out, '--json'])
    expect(run.stderr).toEqual([])
    expect(run.status).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const report = JSON.parse(lines[0]!)
    expect(report).toMatchObject({ prompt: 'a red heart', model, count: 4, keep: 2, seed: 1, reranker: 'none' })
    expect(report.files).toEqual([join(out, 'a-red-heart-1.png'), join(out, 'a-red-heart-2.png')])
    expect(report.grid).toBe(join(out, 'a-red-heart-grid.png'))
    expect(report.scores).toHaveLength(2)
    expect(report.seconds).toBeGreaterThan(0)
    await expectPngs(report.files, 32)
    const grid = await decodePng(new Uint8Array(await readFile(report.grid)))
    expect([grid.width, grid.height]).toEqual([2 + 2 * 34, 2 + 34]) // two cells of 32 px + 2 px gutters
  })

  it('the same seed writes the same images; --scale enlarges them; --preview writes a preview grid', async () => {
    const [a, b] = [join(work, 'seed-a'), join(work, 'seed-b')]
    for (const out of [a, b]) expect((await tessera(['generate', 'a blue star', '--model', model, '--count', '2', '--keep', '1', '--seed', '9', '--out', out, '--backend', 'cpu', '--scale', '2', '--preview'])).status).toBe(0)
    expect(await readFile(join(a, 'a-blue-star-1.png'))).toEqual(await readFile(join(b, 'a-blue-star-1.png')))
    await expectPngs([join(a, 'a-blue-star-1.png')], 64)
    expect((await stat(join(a, 'a-blue-star-preview.png'))).size).toBeGreaterThan(0)
  })

  it('runs from the repository root as `pnpm tessera …` with the arguments passed through', async () => {
    const out = join(work, 'pnpm')
    const prompt = "a red heart's \"star\""
    const run = await tessera(['-s', 'tessera', 'generate', prompt, '--model', model, '--count', '1', '--out', out, '--backend', 'cpu', '--json', '--truncate'], {}, ['pnpm'])
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ prompt, count: 1, keep: 1 })
  })

  it('uses the default bundle, models/emoji, when no --model is given', async () => {
    const models = join(work, 'models')
    await mkdir(models)
    await cp(model, join(models, 'emoji'), { recursive: true })
    const out = join(work, 'default')
    const run = await tessera(['generate', 'a red heart', '--count', '2', '--keep', '1', '--out', out, '--backend', 'cpu', '--json'], { TESSERA_MODELS_DIR: models })
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout).model).toBe(join(models, 'emoji'))
  })
})

describe('tessera complete and info', () => {
  it('complete keeps the top rows of a PNG and writes the completions', async () => {
    const source = join(work, 'source.png')
    const made = await tessera(['generate', 'a green circle', '--model', model, '--count', '1', '--out', join(work, 'src'), '--backend', 'cpu', '--json'])
    await cp(JSON.parse(made.stdout).files[0], source)
    const out = join(work, 'completed')
    const run = await tessera(['complete', source, 'a green circle', '--keep', 'top', '--rows', '2', '--count', '3', '--model', model, '--out', out, '--backend', 'cpu', '--json'])
    expect(run.stderr).toEqual([])
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(report.files).toHaveLength(3)
    await expectPngs(report.files, 32)
  })

  it('info reports the adapter, its limits and features, the plugins and the bundle', async () => {
    const run = await tessera(['info', '--model', model, '--backend', 'cpu', '--json'])
    expect(run.status).toBe(0)
    const info = JSON.parse(run.stdout)
    expect(info.adapter.backend).toBe('cpu')
    expect(info.limits).toHaveProperty('maxStorageBuffersPerKernel')
    expect(info.plugins.sampler).toContain('greedy')
    expect(info.bundle).toMatchObject({ location: model, format: 'tessera-bundle v1' })
    expect(info.bundle.components.dvae).toContain('4×4 tokens of 64')
  })

  it('--help shows examples', async () => {
    const run = await tessera(['--help'])
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Examples:')
    expect((await tessera(['generate', '--help'])).stdout).toMatch(/--top-k <k>[\s\S]*Example:/)
  })
})

describe('bad input: a non-zero exit and one line to act on', () => {
  const cases: [string, () => string[] | Promise<string[]>, RegExp, Record<string, string>?][] = [
    ['an unknown sampler lists the known ones', () => ['generate', 'a red heart', '--model', model, '--sampler', 'nucleus'], /no sampler plugin named 'nucleus'; registered: 'temperature', 'topK', 'topP', 'greedy', 'cfg'/],
    ['an unknown mask lists the known ones', () => ['generate', 'a red heart', '--model', model, '--mask', 'diagonal'], /no attentionMask plugin named 'diagonal'; registered: 'row', 'column', 'conv', 'causal', 'full'/],
    ['a missing model directory says how to make one', () => ['generate', 'a red heart', '--model', join(work, 'nowhere')], /--model .*nowhere: no such directory .*tessera bundle --prior/],
    ['a prior directory is not a bundle', () => ['generate', 'a red heart', '--model', join(model, 'prior')], /tessera-prior directory, not a model bundle: assemble one with tessera bundle --prior/],
    ['no default bundle yet says how to make one', () => ['generate', 'a red heart'], /no default model bundle at .* yet: make one .*tessera bundle --prior/, { TESSERA_MODELS_DIR: '/nonexistent-models' }],
    ['a prompt longer than the model takes, without --truncate', () => ['generate', 'a small red star and a big blue heart and a green circle', '--model', model], /the prompt is \d+ tokens; this model takes at most 8: shorten it, or pass --truncate/],
    ['a file that is not a PNG', async () => {
      const bad = join(work, 'not-a.png')
      await writeFile(bad, 'hello')
      return ['complete', bad, '--model', model]
    }, /not-a\.png: not a readable PNG .*complete takes a PNG image/],
    ['an image that does not exist', () => ['complete', join(work, 'missing.png'), '--model', model], /cannot read .*missing\.png: no such file/],
    ['a count that is not a number', () => ['generate', 'a red heart', '--count', 'many'], /'many' is invalid\. expected a positive integer/],
    ['a region that is not top or left', () => ['complete', 'x.png', '--keep', 'middle'], /'middle' is invalid\. Allowed choices are top, left/],
    ['too many rows', () => ['complete', join(work, 'source.png'), '--rows', '5', '--model', model], /--rows 5: this model's token grid has 4 rows/],
  ]
  it.each(cases)('%s', async (_name, args, message, env) => {
    const run = await tessera([...(await args()), '--backend', 'cpu'], env)
    expect(run.status).not.toBe(0)
    expect(run.stderr).toHaveLength(1)
    expect(run.stderr[0]).toMatch(message)
    expect(run.stderr[0]).not.toMatch(/\bat .*\.js:\d+/)
  })
})
