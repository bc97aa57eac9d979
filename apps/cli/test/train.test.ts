import { loadBundle } from '@tessera/dalle'
import { encodePng, makeShapesDataset, planesToRgba } from '@tessera/datasets'
import { Device, io } from '@tessera/tensor-core'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTessera, tessera } from './run-cli.js'

// Every stage trained by the CLI on the CPU backend, tiny and for a few steps: what is checked is
// that each command reads what the previous one wrote, resumes exactly and fails clearly.
let work: string
let pics: string

/** Shapes drawn as PNGs with a caption file beside each: a folder as a user would have one. */
async function writePictureFolder(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  const set = makeShapesDataset({ count, imageSize: 32, seed: 5 })
  const n = 3 * 32 * 32
  for (let i = 0; i < count; i++) {
    await writeFile(join(dir, `img-${i}.png`), await encodePng(planesToRgba({ channels: 3, height: 32, width: 32, data: set.images.subarray(i * n, (i + 1) * n) })))
    await writeFile(join(dir, `img-${i}.txt`), `${set.captions[i]}\n`)
  }
}

const cpu = ['--backend', 'cpu']
const TINY_CLIP = '{"visionLayers":1,"transformerLayers":1,"visionWidth":32,"transformerWidth":32,"embedDim":32,"contextLength":12}'
const tinyPrior = ['--width', '32', '--heads', '2', '--layers', '2', '--text-length', '8', '--batch', '8', '--warmup', '2', '--lr', '3e-3']

function ok(run: Awaited<ReturnType<typeof tessera>>) {
  expect(run.stderr).toEqual([])
  expect(run.status).toBe(0)
  return run
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-train-'))
  pics = join(work, 'pics')
  await writePictureFolder(pics, 40)
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('train → bundle → generate → eval on your own folder', () => {
  it('each stage reads what the last one wrote; the bundle generates and evaluates', async () => {
    const run = join(work, 'folder-run')
    const data = ['--data', `folder:${pics}`]
    const tokenizer = ok(await tessera(['train', 'tokenizer', ...data, '--vocab', '300', '--min-frequency', '1', '--out', join(run, 'tokenizer.json')]))
    expect(tokenizer.stdout).toMatch(/wrote .*tokenizer\.json: 300 ids from \d+ training captions/)
    ok(await tessera([...cpu, 'train', 'dvae', ...data, '--preset', 'tiny', '--steps', '4', '--batch', '4', '--eval-every', '2', '--out', join(run, 'dvae')]))
    const dvae = JSON.parse(await readFile(join(run, 'dvae', 'manifest.json'), 'utf8'))
    expect(dvae).toMatchObject({ dataSource: `folder:${pics}`, trainedSteps: 4, metrics: { vocabSize: 64 } })
    expect(dvae.segments).toHaveLength(1)
    expect(dvae.segments[0].command).toContain('tessera --backend cpu train dvae')

    const prior = ok(await tessera([...cpu, 'train', 'prior', ...data, '--dvae', join(run, 'dvae'), '--tokenizer', join(run, 'tokenizer.json'), ...tinyPrior, '--steps', '6', '--out', join(run, 'prior')]))
    expect(prior.stdout).toMatch(/step 6: loss [\d.]+ text [\d.]+ image [\d.]+/)
    const priorManifest = JSON.parse(await readFile(join(run, 'prior', 'manifest.json'), 'utf8'))
    expect(priorManifest.training).toMatchObject({ steps: 6, data: { source: `folder:${pics}`, dvae: join(run, 'dvae') } })
    expect(existsSync(join(run, 'prior', 'tokenizer.json'))).toBe(true)

    ok(await tessera([...cpu, 'train', 'clip', ...data, '--config', TINY_CLIP, '--vocab-size', '600', '--batch', '8', '--steps', '4', '--out', join(run, 'clip')]))
    const bundled = ok(await tessera(['bundle', '--prior', join(run, 'prior'), '--dvae', join(run, 'dvae'), '--clip', join(run, 'clip'), '--sampling', '{"topK":16}', '--note', 'test', '--out', join(run, 'bundle')]))
    expect(bundled.stdout).toMatch(/wrote .*bundle: prior 2 layers × 32, .*; CLIP reranks/)

    const made = JSON.parse(ok(await tessera([...cpu, 'generate', 'a red circle', '--model', join(run, 'bundle'), '--count', '4', '--keep', '2', '--out', join(run, 'out'), '--json'])).stdout)
    expect(made).toMatchObject({ reranker: 'clip', keep: 2 })

    const evaluated = JSON.parse(ok(await tessera([...cpu, 'eval', '--model', join(run, 'bundle'), '--captions', '2', '--candidates', '6', '--count', '3', '--keep', '1', '--write', '--json'])).stdout)
    expect(evaluated.data).toBe(`folder:${pics}`) // from the prior's manifest: no --data needed
    for (const split of ['heldIn', 'heldOut']) {
      const r = evaluated.results[split]
      expect(r.captions).toBeGreaterThan(0)
      expect(r.clip.kept).toEqual(expect.any(Number))
      expect(r.clip.real).toEqual(expect.any(Number))
      expect(r.rank.median).toBeGreaterThanOrEqual(1)
      expect(r.rank.median).toBeLessThanOrEqual(r.rank.candidates)
      expect(r.rankContrast.median).toBeGreaterThanOrEqual(1)
      expect(r.rankContrast.median).toBeLessThanOrEqual(r.rank.candidates)
    }
    const bundle = await loadBundle(await Device.create({ backend: 'cpu' }), join(run, 'bundle'))
    expect(bundle.manifest.metrics?.eval).toEqual(evaluated)
    expect(bundle.manifest.training).toMatchObject({ note: 'test', assembled: expect.stringContaining('tessera bundle --prior') })
    expect(bundle.manifest.components.clip?.provenance).toMatchObject({ source: join(run, 'clip'), dataSource: `folder:${pics}` })
    bundle.dispose()
    bundle.device.destroy()
  })
})

describe('on shapes, and resuming', () => {
  const run = () => join(work, 'shapes-run')
  const data = ['--data', 'shapes:48']
  const prior = (out: string, steps: number, ...more: string[]) => [...cpu, 'train', 'prior', ...data, '--dvae', join(run(), 'dvae'), '--tokenizer', join(run(), 'tokenizer.json'), ...tinyPrior, '--steps', String(steps), '--eval-every', '10', '--eval-count', '4', '--checkpoint-every', '2', '--out', out, ...more]

  beforeAll(async () => {
    ok(await tessera(['train', 'tokenizer', ...data, '--vocab', '300', '--min-frequency', '1', '--out', join(run(), 'tokenizer.json')]))
    ok(await tessera([...cpu, 'train', 'dvae', ...data, '--preset', 'tiny', '--steps', '3', '--batch', '4', '--out', join(run(), 'dvae')]))
  })

  it('trains a prior, bundles it without a CLIP, generates, and evaluates it with the checker on seen and unseen combinations', async () => {
    ok(await tessera(prior(join(run(), 'prior'), 4)))
    ok(await tessera(['bundle', '--prior', join(run(), 'prior'), '--dvae', join(run(), 'dvae'), '--out', join(run(), 'bundle')]))
    expect(JSON.parse(ok(await tessera([...cpu, 'generate', 'a blue square', '--model', join(run(), 'bundle'), '--count', '2', '--json'])).stdout)).toMatchObject({ reranker: 'none', keep: 2 })
    const evaluated = JSON.parse(ok(await tessera([...cpu, 'eval', '--model', join(run(), 'bundle'), '--captions', '2', '--count', '2', '--keep', '1', '--json'])).stdout)
    expect(evaluated).toMatchObject({ data: 'shapes:48', settings: { reranker: 'none (the bundle has no CLIP)' } })
    for (const kind of ['seen', 'unseen']) {
      const r = evaluated.results[kind]
      // One caption of each shape count, as half the training images show each.
      expect(r).toMatchObject({ captions: 2, images: 4, acceptedWithReranking: null, oneShape: { captions: 1, images: 2 }, twoShapes: { captions: 1, images: 2 } })
      expect(r.acceptedWithoutReranking).toBeGreaterThanOrEqual(0)
      expect(r.acceptedWithoutReranking).toBeLessThanOrEqual(1)
    }
  })

  it('Ctrl-C checkpoints after the step in flight; --resume then ends where an uninterrupted run does, bit for bit', async () => {
    ok(await tessera(prior(join(work, 'straight'), 30)))
    const interrupted = join(work, 'interrupted')
    const started = startTessera(prior(interrupted, 30))
    // The first checkpoint (step 2) is written by a rename: once it is there the run is training on.
    while (!existsSync(join(interrupted, 'checkpoints', io.CHECKPOINT_FILE))) await new Promise((r) => setTimeout(r, 20))
    started.child.kill('SIGINT')
    const stopped = await started.done
    expect(stopped.status).toBe(130)
    const at = Number(/stopped at step (\d+): checkpoint in .*; continue with the same command and --resume/.exec(stopped.stdout)?.[1])
    expect(at).toBeGreaterThanOrEqual(2)
    expect(at).toBeLessThan(30)
    expect(existsSync(join(interrupted, 'prior.safetensors'))).toBe(false)

    const resumed = ok(await tessera(prior(interrupted, 30, '--resume')))
    expect(resumed.stdout).toContain(`resumed from ${join(interrupted, 'checkpoints')} at step ${at}`)
    const sha = async (dir: string) => createHash('sha256').update(await readFile(join(dir, 'prior.safetensors'))).digest('hex')
    expect(await sha(interrupted)).toBe(await sha(join(work, 'straight')))
    const manifest = async (dir: string) => JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')).training
    const [a, b] = [await manifest(interrupted), await manifest(join(work, 'straight'))]
    expect(a.heldOut).toEqual(b.heldOut)
    expect(a.segments.map((s: { fromStep: number; toStep: number }) => [s.fromStep, s.toStep])).toEqual([
      [0, at],
      [at, 30],
    ])
  })
})

describe('tessera train prior resumes what packages/prior/scripts/train-prior.mjs wrote', () => {
  it('continues its checkpoint to the weights its own --resume made (fixtures/make-train-prior-fixture.sh)', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/train-prior-mjs/', import.meta.url))
    const expected = JSON.parse(await readFile(join(fixture, 'expected.json'), 'utf8'))
    const out = join(work, 'from-train-prior-mjs')
    await cp(join(fixture, 'checkpoints'), join(out, 'checkpoints'), { recursive: true })
    const args = ['--width', '16', '--heads', '2', '--layers', '1', '--text-length', '8', '--batch', '8', '--lr', '3e-3', '--warmup', '2', '--eval-every', '4', '--eval-count', '8', '--checkpoint-every', '3']
    ok(await tessera([...cpu, 'train', 'prior', '--data', `tokens:${join(fixture, 'data')}`, ...args, '--steps', String(expected.steps), '--out', out, '--resume']))
    expect(createHash('sha256').update(await readFile(join(out, 'prior.safetensors'))).digest('hex')).toBe(expected.sha256)
    const { training } = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
    expect(training.heldOut).toEqual(expected.heldOut)
    expect(training.segments[0].command).toContain('train-prior.mjs') // the old run's record continues
    expect(training.segments[1].command).toContain('tessera --backend cpu train prior')
  })
})

describe('bad input: a non-zero exit and one line to act on', () => {
  const fixtureTokenizer = fileURLToPath(new URL('./fixtures/train-prior-mjs/data/tokenizer.json', import.meta.url))
  const cases: [string, () => string[] | Promise<string[]>, RegExp][] = [
    ['an unknown dataset lists the known ones', () => ['train', 'dvae', '--data', 'imagenet', '--out', join(work, 'x')], /--data imagenet: unknown dataset; known: emoji, shapes, shapes:N, folder:DIR, packed:DIR$/],
    ['a folder that does not exist', () => ['train', 'tokenizer', '--data', `folder:${join(work, 'nowhere')}`, '--out', join(work, 'x.json')], /--data folder:.*nowhere: no such folder/],
    ['a folder without images', async () => {
      await mkdir(join(work, 'empty'), { recursive: true })
      await writeFile(join(work, 'empty', 'notes.txt'), 'no pictures here')
      return ['train', 'dvae', '--data', `folder:${join(work, 'empty')}`, '--out', join(work, 'x')]
    }, /no PNG images in .*empty/],
    ['a --config that is not JSON', () => ['train', 'dvae', '--config', '{"nHid": 16', '--out', join(work, 'x')], /option '--config <json>' argument .* is invalid\. not valid JSON/],
    ['--resume with nothing to resume', () => ['train', 'dvae', '--data', 'shapes:16', '--out', join(work, 'fresh'), '--resume'], /--resume: there is no checkpoint in .*fresh\/checkpoints to resume; drop --resume to start a new run/],
    ['a new run over a checkpoint', async () => {
      await mkdir(join(work, 'taken', 'checkpoints'), { recursive: true })
      await writeFile(join(work, 'taken', 'checkpoints', io.CHECKPOINT_FILE), '')
      return ['train', 'prior', '--data', 'shapes:48', '--out', join(work, 'taken')]
    }, /taken\/checkpoints already holds a checkpoint: add --resume to continue that run, or choose another --out or --checkpoints/],
    ['--export without --resume', () => ['train', 'clip', '--out', join(work, 'x'), '--export'], /--export writes a checkpoint's model as it is: add --resume/],
    ['a prior on images without a tokenizer', () => ['train', 'prior', '--data', 'shapes:48', '--out', join(work, 'x')], /train prior needs --tokenizer FILE/],
    ['a dVAE that is neither shipped nor a directory', () => ['train', 'prior', '--data', 'shapes:48', '--dvae', 'dvae-huge', '--tokenizer', fixtureTokenizer, '--out', join(work, 'x')], /--dvae dvae-huge: no such directory .* shipped: dvae-emoji-32, dvae-emoji-32-large$/],
    ['a vocabulary too small for a byte-level BPE', () => ['train', 'tokenizer', '--data', 'shapes', '--vocab', '100', '--out', join(work, 'x.json')], /--vocab 100: a byte-level BPE needs at least 257 ids/],
    ['bundle without a prior directory', () => ['bundle', '--prior', join(work, 'nowhere'), '--out', join(work, 'x')], /--prior .*nowhere: no such directory/],
    ['an unknown benchmark', () => ['bench', 'everything'], /'everything' is invalid for argument 'which'\. Allowed choices are generate, kernels/],
  ]
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await tessera([...cpu, ...(await args())])
    expect(run.status).toBe(1)
    expect(run.stderr).toHaveLength(1)
    expect(run.stderr[0]).toMatch(message)
    expect(run.stderr[0]).not.toMatch(/\bat .*\.js:\d+/)
  })

  it('every new command has --help with examples', async () => {
    for (const command of [['train'], ['train', 'tokenizer'], ['train', 'dvae'], ['train', 'prior'], ['train', 'clip'], ['bundle'], ['eval'], ['bench']]) {
      const run = await tessera([...command, '--help'])
      expect(run.status, command.join(' ')).toBe(0)
      expect(run.stdout, command.join(' ')).toMatch(/Examples?:\n  \$ tessera /)
    }
  })
})
