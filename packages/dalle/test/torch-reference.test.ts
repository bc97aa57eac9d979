// Parity with the PyTorch reference of the whole generate path (scripts/generate_torch.py, which
// imports the one PyTorch definition of each model from python/tessera_torch: prior.py with its KV
// cache, dvae.py, clip.py, and bpe.py, @tessera/bpe's encode in Python) on the same bundle files. Greedy sampling with guidance must give
// the same tokens; the guided logits of every step, the dVAE's images of the same tokens and CLIP's
// scores of the same images must agree within float tolerance. These tests run PyTorch live: they
// skip, by name and with the reason, where /usr/bin/python3 has no torch (TORCH_PYTHON overrides).
import { BPETokenizer } from '@tessera/bpe'
import { clipTokenizerFromJSON } from '@tessera/clip-rerank'
import { getPlugin } from '@tessera/plugins'
import { ops, tidy, io } from '@tessera/tensor-core'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBundle, type DalleBundle } from '../src/index.js'
import { cpuDevice, tinyBundleDir, tinyTokenizer } from './helpers.js'

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3'
const SCRIPTS = new URL('../../', import.meta.url).pathname
const GENERATE_TORCH = join(SCRIPTS, 'dalle/scripts/generate_torch.py')
const TESSERA_BPE = new URL('../../../python/tessera_torch/bpe.py', import.meta.url).pathname
const DEFAULT_BUNDLE = new URL('../../../models/emoji', import.meta.url).pathname
// One thread: the reference is small, and the machine's other work keeps its cores.
const PYTHON_ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }

/** Why PyTorch cannot run here, or null when it can. */
function torchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', env: PYTHON_ENV })
  if (probe.status === 0) return null
  const detail = (probe.stderr || probe.error?.message || `exit status ${probe.status}`).trim().split('\n').at(-1)
  return `needs ${PYTHON} with torch and numpy (bash scripts/setup.sh --with-torch): ${detail}`
}
const missing = torchMissing()

function runPython(args: string[], input?: string): string {
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', env: PYTHON_ENV, input, maxBuffer: 64 << 20 })
  if (run.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed (${run.status}): ${run.stderr || run.error?.message}`)
  return run.stdout
}

interface Reference {
  tokens: Int32Array
  logits: Float32Array
  images: io.HostTensor
  scores: Float32Array
  report: { candidates: number[]; scores: number[]; sampling: Record<string, unknown> }
}

/** generate_torch.py on a bundle directory with these flags; its --dump file and --json report. */
async function reference(work: string, bundleDir: string, prompt: string, flags: string[]): Promise<Reference> {
  const dump = join(work, `dump-${Math.random().toString(36).slice(2)}.safetensors`)
  const out = runPython([GENERATE_TORCH, prompt, '--model', bundleDir, '--out', join(work, 'png'), '--dump', dump, '--json', '--threads', '1', ...flags])
  const { tensors } = await io.readSafetensorsFile(dump)
  return {
    tokens: Int32Array.from(tensors.tokens!.data),
    logits: Float32Array.from(tensors.logits!.data),
    images: tensors.images!,
    scores: Float32Array.from(tensors.scores!.data),
    report: JSON.parse(out.trim().split('\n').at(-1)!),
  }
}

/** Tessera's guided logits at every step, teacher-forced on `tokens` [count, H·W]: uncond + scale·(cond − uncond), [H·W, count, V] as the dump. */
async function guidedLogits(bundle: DalleBundle, prompt: string, tokens: Int32Array, scale: number): Promise<Float32Array> {
  const { prior, device } = bundle
  const HW = prior.imageLength
  const V = prior.config.imageVocabSize
  const T = prior.config.textLength
  const count = tokens.length / HW
  const text = bundle.encodePrompt(prompt)
  const rows = new Int32Array(2 * count * T).fill(prior.config.padId)
  for (let r = 0; r < count; r++) rows.set(text, r * T)
  const logits = tidy(() => {
    const image = device.tensor(Int32Array.from([...tokens, ...tokens]), [2 * count, HW])
    const all = prior.imageLogits(device.tensor(rows, [2 * count, T]), image)
    const cond = ops.slice(all, [{ start: 0, end: count }])
    const uncond = ops.slice(all, [{ start: count }])
    return ops.add(uncond, ops.mul(ops.sub(cond, uncond), scale))
  })
  const byCandidate = (await logits.read()) as Float32Array // [count, HW, V]
  logits.dispose()
  const out = new Float32Array(byCandidate.length)
  for (let c = 0; c < count; c++) for (let i = 0; i < HW; i++) out.set(byCandidate.subarray((c * HW + i) * V, (c * HW + i + 1) * V), (i * count + c) * V)
  return out
}

async function decoded(bundle: DalleBundle, tokens: Int32Array): Promise<Float32Array> {
  const [h, w] = bundle.prior.config.gridSize
  const images = tidy(() => bundle.dvae.decode(bundle.dvae.tokens(tokens, [tokens.length / (h * w), h, w])))
  const pixels = (await images.read()) as Float32Array
  images.dispose()
  return pixels
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!))
  return m
}

const PROMPTS = ['a red heart', 'A BIG blue star!', '', '  two   spaces  ', 'café, crème & 42 °C', 'fire 🔥🔥 <|pad|>x', 'Ünïcödé ΣΊΣΥΦΟΣ straße 日本語', "it's a dog's face\nnew line"]

let work: string
let tinyDir: string
let tiny: DalleBundle
beforeAll(async () => {
  if (missing) return
  work = await mkdtemp(join(tmpdir(), 'dalle-torch-'))
  tinyDir = await tinyBundleDir(await cpuDevice())
  tiny = await loadBundle(await cpuDevice(), tinyDir)
})
afterAll(async () => {
  if (missing) return
  tiny.dispose()
  await rm(tinyDir, { recursive: true, force: true })
  await rm(work, { recursive: true, force: true })
})

describe('the PyTorch reference of generate (scripts/generate_torch.py)', () => {
  it("tessera_torch/bpe.py gives @tessera/bpe's ids: the test bundle's BPE and the default bundle's prior and CLIP tokenizers", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    const tinyJson = join(work, 'tiny-tokenizer.json')
    await writeFile(tinyJson, JSON.stringify(await tinyTokenizer()))
    const cases: [string, (texts: string[]) => number[][], string[]][] = [[tinyJson, (t) => t.map((p) => tiny.tokenizer.encode(p)), []]]
    if (existsSync(DEFAULT_BUNDLE)) {
      const prior = BPETokenizer.fromJSON(await readFile(join(DEFAULT_BUNDLE, 'tokenizer.json'), 'utf8'))
      const clip = clipTokenizerFromJSON(await readFile(join(DEFAULT_BUNDLE, 'clip/tokenizer.json'), 'utf8'))
      cases.push([join(DEFAULT_BUNDLE, 'tokenizer.json'), (t) => t.map((p) => prior.encode(p)), []])
      cases.push([join(DEFAULT_BUNDLE, 'clip/tokenizer.json'), (t) => clip.tokenize(t, { contextLength: 20, truncate: true }).map((r) => [...r]), ['--clip', '20']])
    }
    const texts = [...PROMPTS, 'a &amp; b &lt;3', '<|startoftext|>hi<|endoftext|>', 'a prompt long enough to be cut at the context length of twenty tokens, surely']
    for (const [file, tessera, flags] of cases) {
      expect(JSON.parse(runPython([TESSERA_BPE, file, ...flags], JSON.stringify(texts))), file).toEqual(tessera(texts))
    }
  })

  it('greedy with guidance: the same tokens as Tessera, guided logits within 1e-4 at every step, the same images within 1e-5 (test bundle)', async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    for (const prompt of ['a red heart', 'a small blue star', '']) {
      const ref = await reference(work, tinyDir, prompt, ['--count', '1', '--keep', '1', '--sampler', 'greedy', '--guidance', '3', '--reranker', 'none'])
      const ours = await tiny.generate({ prompt, count: 1, sampler: 'greedy', guidance: 3, reranker: 'none' })
      expect([...ours.tokens], prompt).toEqual([...ref.tokens])
      const logits = await guidedLogits(tiny, prompt, ref.tokens, 3)
      expect(maxAbsDiff(logits, ref.logits), `${prompt}: guided logits (scale ${maxAbs(ref.logits)})`).toBeLessThan(1e-4)
      expect(maxAbsDiff(await decoded(tiny, ref.tokens), ref.images.data), `${prompt}: images`).toBeLessThan(1e-5)
      expect(maxAbsDiff(ours.images.pixels, ref.images.data), `${prompt}: generate's images`).toBeLessThan(1e-5)
    }
  })

  it("the default bundle (models/emoji): greedy tokens under its sampling defaults, guided logits, images, and CLIP's scores and order of the reference's samples", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!existsSync(DEFAULT_BUNDLE), `no default bundle at ${DEFAULT_BUNDLE}`)
    const bundle = await loadBundle(await cpuDevice(), DEFAULT_BUNDLE)
    try {
      const guidance = bundle.manifest.sampling?.guidance ?? 3
      for (const prompt of ['a red heart', 'grinning face']) {
        // No --guidance / --top-k: both sides take the manifest's (guidance 3, top-k 32).
        const ref = await reference(work, DEFAULT_BUNDLE, prompt, ['--count', '1', '--keep', '1', '--sampler', 'greedy', '--reranker', 'none'])
        expect(ref.report.sampling).toMatchObject({ guidance, top_k: bundle.manifest.sampling?.topK })
        const ours = await bundle.generate({ prompt, count: 1, sampler: 'greedy', reranker: 'none' })
        expect([...ours.tokens], prompt).toEqual([...ref.tokens])
        const logits = await guidedLogits(bundle, prompt, ref.tokens, guidance)
        expect(maxAbsDiff(logits, ref.logits), `${prompt}: guided logits (scale ${maxAbs(ref.logits)})`).toBeLessThan(1e-4)
        expect(maxAbsDiff(ours.images.pixels, ref.images.data), `${prompt}: images`).toBeLessThan(1e-5)
      }
      // Sampled candidates (torch's draws): CLIP scores them as Tessera's reranker does, in the same order.
      const prompt = 'a red heart'
      const ref = await reference(work, DEFAULT_BUNDLE, prompt, ['--count', '6', '--keep', '6', '--seed', '1'])
      expect(maxAbsDiff(await decoded(bundle, ref.tokens), ref.images.data), 'images of sampled tokens').toBeLessThan(1e-5)
      const images = bundle.device.tensor(Float32Array.from(ref.images.data), ref.images.shape)
      const scores = await getPlugin('reranker', 'clip').create({ device: bundle.device, bundle }).score(prompt, images)
      images.dispose()
      expect(maxAbsDiff(scores, ref.scores), `CLIP scores ${[...ref.scores]}`).toBeLessThan(1e-4 * maxAbs(ref.scores))
      const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b)
      expect(order).toEqual(ref.report.candidates)
    } finally {
      bundle.dispose()
    }
  })

  it("the sampler stages (temperature → top-k → top-p) keep the same entries as Tessera's ops, on the default bundle's guided logits", async (ctx) => {
    ctx.skip(missing !== null, missing ?? '')
    ctx.skip(!existsSync(DEFAULT_BUNDLE), `no default bundle at ${DEFAULT_BUNDLE}`)
    const dump = join(work, 'stages.safetensors')
    runPython([GENERATE_TORCH, 'a thumbs up', '--model', DEFAULT_BUNDLE, '--out', join(work, 'png'), '--dump', dump, '--count', '4', '--keep', '1', '--reranker', 'none', '--threads', '1'])
    const stages = { temperature: 0.8, topK: 32, topP: 0.9 }
    // The reference's filters on its own logits: which entries each row keeps, as '0'/'1' strings.
    const kept = JSON.parse(
      runPython(['-c', [
        'import json, sys, torch',
        `sys.path.insert(0, ${JSON.stringify(join(SCRIPTS, 'dalle/scripts'))})`,
        'from generate_torch import Sampling, transformed, read_safetensors',
        `logits = torch.from_numpy(read_safetensors(${JSON.stringify(dump)})['logits'].copy())`,
        `out = transformed(logits.reshape(-1, logits.shape[-1]), Sampling(temperature=${stages.temperature}, top_k=${stages.topK}, top_p=${stages.topP}))`,
        "print(json.dumps([''.join('1' if v > float('-inf') else '0' for v in row) for row in out.tolist()]))",
      ].join('\n')]),
    ) as string[]
    const { tensors } = await io.readSafetensorsFile(dump)
    const logits = tensors.logits!
    const V = logits.shape.at(-1)!
    const device = await cpuDevice()
    const filtered = tidy(() => ops.filterTopP(ops.filterTopK(ops.div(device.tensor(Float32Array.from(logits.data), [logits.data.length / V, V]), stages.temperature), stages.topK), stages.topP))
    const values = (await filtered.read()) as Float32Array
    filtered.dispose()
    const ours = Array.from({ length: values.length / V }, (_, r) => Array.from(values.subarray(r * V, (r + 1) * V), (v) => (v > -3e38 ? '1' : '0')).join(''))
    expect(ours.length).toBe(kept.length)
    const keptCounts = ours.map((row) => row.split('1').length - 1)
    expect(Math.min(...keptCounts), 'top-p cuts below top-k somewhere').toBeLessThan(stages.topK)
    expect(ours).toEqual(kept)
  })
})
