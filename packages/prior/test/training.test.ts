import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPrior, Prior, PriorTrainer, savePrior, tokenDataset, type PriorConfig } from '../src/index.js'
import { cpuDevice, devices, randomIds } from './helpers.js'

// A word-level tokenizer: id 0 is the pad.
const WORDS = ['<pad>', 'red', 'blue', 'green', 'heart', 'star', 'circle', 'big', 'small']
const tokenizer = { encode: (text: string) => text.split(' ').map((w) => WORDS.indexOf(w)) }
const CAPTIONS = ['red heart', 'blue star', 'big green circle', 'small red star']
const CONFIG: PriorConfig = { textVocabSize: WORDS.length, imageVocabSize: 16, textLength: 4, gridSize: [3, 3], width: 32, heads: 2, layers: 2, masks: ['row', { name: 'conv', kernelSize: 3 }], seed: 0 }
const data = tokenDataset(CAPTIONS, randomIds(4 * 9, 16, 11), 9)

describe.each(devices)('PriorTrainer on %s', (_name, getDevice) => {
  it('overfits four caption → token pairs, then generates each exactly (greedy)', async () => {
    const device = await getDevice()
    const prior = new Prior(device, CONFIG)
    const trainer = new PriorTrainer(prior, data, tokenizer, { steps: 150, batchSize: 4, lr: 1e-2, warmupSteps: 10, bpeDropout: 0, nullCaptionProb: 0 })
    const first = await trainer.trainStep()
    await trainer.run()
    const final = await trainer.evaluate(data)
    expect(final.imageCe).toBeLessThan(0.05 * first.imageCe)
    const captionIds = CAPTIONS.map((c) => Object.assign(new Array(4).fill(0), tokenizer.encode(c)))
    const tokens = await (await prior.generate(captionIds, { sampler: 'greedy' })).read()
    expect([...tokens]).toEqual([...data.imageTokens])
    trainer.dispose()
    prior.dispose()
  })
})

describe('PriorTrainer checkpoints', () => {
  it('resume continues bit for bit (data order, dropout and null-caption draws, AdamW, step)', async () => {
    const device = await cpuDevice()
    const dir = await mkdtemp(join(tmpdir(), 'prior-ckpt-'))
    const opts = { steps: 8, batchSize: 3, lr: 3e-3, warmupSteps: 2, bpeDropout: 0.5, nullCaptionProb: 0.3, dataSeed: 4 }
    const straight = new PriorTrainer(new Prior(device, CONFIG), data, tokenizer, opts)
    const straightLosses: number[] = []
    await straight.run({ onStep: (m) => straightLosses.push(m.loss) })

    const a = new PriorTrainer(new Prior(device, CONFIG), data, tokenizer, opts)
    const losses: number[] = []
    await a.run({ until: 5, onStep: (m) => losses.push(m.loss), checkpointDir: dir })
    const b = new PriorTrainer(new Prior(device, CONFIG), data, tokenizer, opts)
    expect(await b.resume(dir)).toMatchObject({ fallback: null, verified: true })
    expect(b.step).toBe(5)
    await b.run({ onStep: (m) => losses.push(m.loss) })
    expect(losses).toEqual(straightLosses)
    const [pa, pb] = [await straight.prior.hostStateDict(), await b.prior.hostStateDict()]
    for (const name of Object.keys(pa)) expect([...pb[name]!.data], name).toEqual([...pa[name]!.data])

    // Export → load gives the same logits.
    await savePrior(b.prior, join(dir, 'model'), { note: 'test' })
    const { prior: loaded, manifest } = await loadPrior(device, join(dir, 'model'))
    expect(manifest.note).toBe('test')
    const text = device.tensor(Int32Array.from([1, 4, 0, 0]), [1, 4])
    const image = device.tensor(data.imageTokens.subarray(0, 9), [1, 9])
    expect([...(await loaded.imageLogits(text, image).read())]).toEqual([...(await b.prior.imageLogits(text, image).read())])
    await rm(dir, { recursive: true })
  })

  it('a missing or mismatched prior directory is a typed error naming the file', async () => {
    const device = await cpuDevice()
    await expect(loadPrior(device, '/nonexistent/prior')).rejects.toThrow(/cannot read \/nonexistent\/prior\/manifest.json/)
    const dir = await mkdtemp(join(tmpdir(), 'prior-bad-'))
    await savePrior(new Prior(device, CONFIG), dir)
    const { writeFile, readFile } = await import('node:fs/promises')
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, config: { ...manifest.config, width: 64 } }))
    await expect(loadPrior(device, dir)).rejects.toThrow(/prior.safetensors does not fit the config in manifest.json/)
    await rm(dir, { recursive: true })
  })
})
