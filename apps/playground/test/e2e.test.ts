import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodePng } from '@tessera/datasets'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBrowser } from '../../../scripts/browser-harness.mjs'

/**
 * The built playground (dist/) in Debian's headless Chromium on its WebGPU adapter (SwiftShader
 * here), checked against the built CLI on the CPU backend for the same bundle, prompt and seed.
 * Screenshots go to test-output/ (git-ignored).
 */
const app = fileURLToPath(new URL('..', import.meta.url))
const repo = join(app, '../..')
const cli = join(repo, 'apps/cli/dist/index.js')
const shots = join(app, 'test-output')
const PROMPT = 'a red heart'

let session: Awaited<ReturnType<typeof startBrowser>>
let page: Page
let out: string
const timings: Record<string, number> = {}

interface CliRun {
  files: string[]
  scores: number[]
  candidates: number[]
  seconds: number
}

/** `tessera generate` on the CPU backend: what the page must reproduce. */
function runCli(...extra: string[]): CliRun {
  const dir = mkdtempSync(join(out, 'cli-'))
  const stdout = execFileSync(process.execPath, [cli, 'generate', PROMPT, '--count', '2', '--keep', '2', '--seed', '1', '--backend', 'cpu', '--json', '--out', dir, ...extra], { encoding: 'utf8', cwd: repo })
  return JSON.parse(stdout.trim().split('\n').pop()!) as CliRun
}

async function waitReady(p: Page): Promise<void> {
  await p.waitForSelector('#model-status[data-state=ready], #model-status[data-state=error]', { timeout: 120_000 })
  expect(await p.getAttribute('#model-status', 'data-state'), (await p.textContent('#model-status'))!).toBe('ready')
}

/** Clicks Generate and waits for the results; returns the kept images' pixels, scores and tokens. */
async function generate(p: Page): Promise<{ pixels: number[][]; scores: number[]; tokens: number[][]; seconds: number }> {
  const runs = Number(await p.getAttribute('#results', 'data-runs'))
  const t0 = Date.now()
  await p.click('#generate')
  await p.waitForSelector(`#results[data-runs="${runs + 1}"][data-state=done]`, { timeout: 280_000 })
  const seconds = (Date.now() - t0) / 1000
  const cards = await p.$$eval('#results .result', (els) =>
    els.map((el) => {
      const canvas = el.querySelector('canvas')!
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      return { pixels: Array.from(data), score: Number((el as HTMLElement).dataset.score), tokens: (el as HTMLElement).dataset.tokens!.split(',').map(Number) }
    }),
  )
  return { pixels: cards.map((c) => c.pixels), scores: cards.map((c) => c.score), tokens: cards.map((c) => c.tokens), seconds }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** Not blank: not a flat image (white or otherwise). */
function expectNotBlank(rgba: number[]): void {
  const lum = [] as number[]
  for (let i = 0; i < rgba.length; i += 4) lum.push(rgba[i]! + rgba[i + 1]! + rgba[i + 2]!)
  const mean = lum.reduce((a, b) => a + b, 0) / lum.length
  const sd = Math.sqrt(lum.reduce((a, v) => a + (v - mean) ** 2, 0) / lum.length)
  expect(sd, 'spread of brightness').toBeGreaterThan(20)
  expect(mean, 'mean brightness (765 = white)').toBeLessThan(740)
}

/** The entries of a zip written without compression (what the playground's download is). */
function readStoredZip(bytes: Uint8Array): Record<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const files: Record<string, Uint8Array> = {}
  let at = 0
  while (view.getUint32(at, true) === 0x04034b50) {
    expect(view.getUint16(at + 8, true), 'compression method').toBe(0)
    const size = view.getUint32(at + 18, true)
    const nameLength = view.getUint16(at + 26, true)
    const extra = view.getUint16(at + 28, true)
    const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLength))
    const start = at + 30 + nameLength + extra
    files[name] = bytes.slice(start, start + size)
    at = start + size
  }
  expect(view.getUint32(at, true), 'central directory after the entries').toBe(0x02014b50)
  return files
}

beforeAll(async () => {
  for (const file of [join(app, 'dist/index.html'), join(app, 'dist/models/emoji/manifest.json'), cli]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` (turbo builds the playground and the CLI before this test)`)
  }
  mkdirSync(shots, { recursive: true })
  out = mkdtempSync(join(tmpdir(), 'tessera-playground-'))
  session = await startBrowser({ root: join(app, 'dist'), index: 'index.html' })
  page = await session.browser.newPage()
  await page.setViewportSize({ width: 1280, height: 900 })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`${session.url}?test-hooks`)
  await waitReady(page)
  expect(errors).toEqual([])
})

afterAll(async () => {
  await session?.close()
  if (out) rmSync(out, { recursive: true, force: true })
  if (Object.keys(timings).length) console.log('playground measurements (seconds; pixel differences in 8-bit levels):', JSON.stringify(timings))
})

describe('playground in headless Chromium (WebGPU, SwiftShader)', () => {
  it('shows the adapter, its limits and plugin-populated controls', async () => {
    expect(await page.textContent('#model-status')).toMatch(/ready: .*models\/emoji\/.*32×32 images, 8×8 tokens/)
    const adapter = await page.textContent('#adapter')
    expect(adapter).toMatch(/maxStorageBufferBindingSize: [\d,]+/)
    expect(adapter).toMatch(/software: true/)
    const options = (id: string) => page.$$eval(`#${id} option`, (els) => els.map((e) => (e as HTMLOptionElement).value))
    expect(await options('sampler')).toContain('greedy')
    expect(await options('masks')).toEqual(expect.arrayContaining(['dalle', 'row', 'column', 'conv', 'causal', 'full']))
    expect(await options('reranker')).toEqual(expect.arrayContaining(['clip', 'none']))
    // The manifest's sampling defaults fill the fields.
    expect(await page.inputValue('#topK')).toBe('32')
    expect(await page.inputValue('#guidance')).toBe('3')
  })

  it('a prompt gives previews, then the images and CLIP scores the CLI makes for the same bundle, prompt and seed', async () => {
    await page.fill('#prompt', PROMPT)
    const browser = await generate(page)
    await page.screenshot({ path: join(shots, 'text-to-image.png'), fullPage: true })
    expect(Number(await page.getAttribute('#previews', 'data-updates')), 'preview updates (one per grid row)').toBe(8)
    const reference = runCli()
    timings.chromiumSeconds = browser.seconds
    timings.cliCpuSeconds = reference.seconds
    expect(browser.pixels).toHaveLength(2)
    for (const [i, file] of reference.files.entries()) {
      const png = await decodePng(readFileSync(file))
      expectNotBlank(browser.pixels[i]!)
      // SwiftShader and the CPU backend sum in other orders: the same tokens decode to within a level.
      const diff = maxDiff(browser.pixels[i]!, png.data)
      timings[`maxPixelDiff${i + 1}`] = diff
      expect(diff, `image ${i + 1}`).toBeLessThanOrEqual(1)
      expect(Math.abs(browser.scores[i]! - reference.scores[i]!), `score ${i + 1}`).toBeLessThan(1e-3)
    }
    // The download is the same image as a PNG.
    const png = await page.$eval('#results .result a.download', async (a) => Array.from(new Uint8Array(await (await fetch((a as HTMLAnchorElement).href)).arrayBuffer())))
    const downloaded = await decodePng(Uint8Array.from(png))
    expect([downloaded.width, downloaded.height]).toEqual([32, 32])
    expect(maxDiff(downloaded.data, browser.pixels[0]!)).toBe(0)
  })

  it('swapping the sampler plugin to greedy gives the CLI\'s greedy images', async () => {
    await page.selectOption('#sampler', 'greedy')
    const browser = await generate(page)
    await page.screenshot({ path: join(shots, 'greedy.png'), fullPage: true })
    await page.selectOption('#sampler', '')
    // Greedy ignores the seed's draws: both candidates are the same image.
    expect(browser.tokens[0]).toEqual(browser.tokens[1])
    const reference = runCli('--sampler', 'greedy')
    for (const [i, file] of reference.files.entries()) {
      expectNotBlank(browser.pixels[i]!)
      expect(maxDiff(browser.pixels[i]!, (await decodePng(readFileSync(file))).data), `greedy image ${i + 1}`).toBeLessThanOrEqual(1)
    }
  })

  it('cancel stops a running generation, and the next one runs', async () => {
    await page.fill('#count', '8')
    await page.fill('#keep', '8')
    await page.click('#generate')
    await page.waitForFunction(() => Number(document.getElementById('previews')!.dataset.updates) >= 1, undefined, { timeout: 120_000 })
    const t0 = Date.now()
    await page.click('#cancel')
    await page.waitForSelector('#results[data-state=cancelled]', { timeout: 60_000 })
    timings.cancelSeconds = (Date.now() - t0) / 1000
    expect(await page.textContent('#progress-text')).toBe('cancelled')
    expect(await page.isEnabled('#generate')).toBe(true)
    await page.screenshot({ path: join(shots, 'cancelled.png'), fullPage: true })
    await page.fill('#count', '2')
    await page.fill('#keep', '2')
  })

  it('image-to-image keeps the uploaded image\'s top rows and completes the rest', async () => {
    const source = runCli().files[0]!
    await page.setInputFiles('#image', source)
    await page.waitForSelector('#image-preview:not([hidden])')
    await page.selectOption('#region', 'top')
    await page.fill('#amount', '0.5')
    await page.fill('#seed', '7')
    const browser = await generate(page)
    await page.screenshot({ path: join(shots, 'image-to-image.png'), fullPage: true })
    await page.click('#clear-image')
    await page.fill('#seed', '1')
    // 8×8 tokens, top half kept: the first 32 tokens are the image's in every candidate.
    expect(browser.tokens[0]!.slice(0, 32)).toEqual(browser.tokens[1]!.slice(0, 32))
    browser.pixels.forEach(expectNotBlank)
    // The kept top rows look like the uploaded image's (its tokens re-encoded, so close, not equal).
    const original = (await decodePng(readFileSync(source))).data
    const top = 16 * 32 * 4
    let err = 0
    for (let i = 0; i < top; i++) if (i % 4 !== 3) err += Math.abs(browser.pixels[0]![i]! - original[i]!)
    expect(err / (top * 0.75), 'mean abs difference in the kept top half').toBeLessThan(40)
  })

  it('fine-tuning the prior on two captioned images lowers its loss; the bundle downloads as a zip', async () => {
    const images = runCli('--seed', '5').files
    await page.setInputFiles('#train-images', images)
    await page.waitForFunction(() => document.querySelectorAll('#train-pairs .pair').length === 2)
    const captions = page.locator('#train-pairs input.caption')
    await captions.nth(0).fill('a red heart')
    await captions.nth(1).fill('a small red heart')
    await page.fill('#train-steps', '12')
    await page.fill('#train-lr', '0.001')
    await page.fill('#train-batch', '2')
    const t0 = Date.now()
    await page.click('#train')
    await page.waitForSelector('#train-status[data-state=done]', { timeout: 240_000 })
    timings.trainStepSeconds = (Date.now() - t0) / 1000 / 12
    await page.screenshot({ path: join(shots, 'train.png'), fullPage: true })
    const losses = (await page.getAttribute('#loss-plot', 'data-losses'))!.split(',').map(Number)
    expect(losses).toHaveLength(12)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(losses.slice(-3)), `losses ${losses.join(' ')}`).toBeLessThan(mean(losses.slice(0, 3)))
    expect(await page.isEnabled('#generate')).toBe(true)
    await page.click('#export')
    await page.waitForSelector('#export-link')
    const base64 = await page.$eval('#export-link', async (a) => {
      const blob = await (await fetch((a as HTMLAnchorElement).href)).blob()
      return new Promise<string>((resolve) => {
        const reader = new FileReader()
        reader.onload = () => resolve((reader.result as string).split(',')[1]!)
        reader.readAsDataURL(blob)
      })
    })
    const files = readStoredZip(Buffer.from(base64, 'base64'))
    for (const name of ['manifest.json', 'tokenizer.json', 'prior/prior.safetensors', 'prior/manifest.json', 'dvae/decoder.safetensors', 'dvae/encoder.safetensors', 'clip/clip.safetensors']) expect(files, name).toHaveProperty([name])
    // The download is a bundle Node loads, with the fine-tuned weights (not the shipped ones).
    const original = readFileSync(join(repo, 'models/emoji/prior/prior.safetensors'))
    expect(files['prior/prior.safetensors']!.length).toBe(original.length)
    expect(Buffer.compare(Buffer.from(files['prior/prior.safetensors']!), original)).not.toBe(0)
    expect(JSON.parse(new TextDecoder().decode(files['manifest.json'])).training.fineTuned.steps).toBe(12)
    // The CLI (another process, its CPU backend) generates from the unzipped download.
    const dir = mkdtempSync(join(out, 'fine-tuned-'))
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true })
      writeFileSync(join(dir, name), data)
    }
    const stdout = execFileSync(process.execPath, [cli, 'generate', 'a red heart', '--model', dir, '--count', '1', '--seed', '1', '--backend', 'cpu', '--json', '--out', join(dir, 'out')], { encoding: 'utf8', cwd: repo })
    const run = JSON.parse(stdout.trim().split('\n').pop()!) as CliRun
    expectNotBlank(Array.from((await decodePng(readFileSync(run.files[0]!))).data))
  })

  it('a lost GPU device is reported, and the model restarts without a reload', async () => {
    await page.evaluate(() => (window as unknown as { playground: { loseDevice(): void } }).playground.loseDevice())
    await page.waitForSelector('#model-status[data-state=lost]', { timeout: 30_000 })
    expect(await page.textContent('#banner')).toMatch(/GPU device was lost/)
    expect(await page.isDisabled('#generate')).toBe(true)
    await page.screenshot({ path: join(shots, 'device-lost.png'), fullPage: true })
    await page.click('#banner-action')
    await waitReady(page)
    expect(await page.isVisible('#banner')).toBe(false)
    expect(await page.isEnabled('#generate')).toBe(true)
  })
})

describe('playground without WebGPU', () => {
  it('says WebGPU is not available (Chromium started without --enable-unsafe-webgpu)', async () => {
    const bare = await startBrowser({ root: join(app, 'dist'), index: 'index.html', webgpu: false })
    try {
      const p = await bare.browser.newPage()
      await p.goto(bare.url)
      await p.waitForSelector('#model-status[data-state=error]', { timeout: 60_000 })
      const text = await p.textContent('#banner')
      expect(await p.isVisible('#banner')).toBe(true)
      expect(text).toMatch(/WebGPU is not available/)
      expect(await p.isDisabled('#generate')).toBe(true)
      await p.screenshot({ path: join(shots, 'no-webgpu.png'), fullPage: true })
    } finally {
      await bare.close()
    }
  })
})
