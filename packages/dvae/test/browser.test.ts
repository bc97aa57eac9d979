import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RgbaImage } from '@tessera/datasets'
import { startBrowser } from '../../../scripts/browser-harness.mjs'
import { modelUrl } from '@tessera/models'
import { imagesToTensor, loadDvae, tensorToImages } from '../src/index.js'
import { device, expectClose } from './helpers.js'

/**
 * The dVAE as a web page uses it: the built packages in headless Chromium on navigator.gpu,
 * the bundled weights fetched over HTTP, `ImageData` in and out. Checked against the same
 * images through the CPU backend in Node.
 */
const repo = fileURLToPath(new URL('../../..', import.meta.url))

let session: Awaited<ReturnType<typeof startBrowser>>

beforeAll(async () => {
  for (const pkg of ['tensor-core', 'datasets', 'dvae']) {
    if (!existsSync(join(repo, 'packages', pkg, 'dist/index.js'))) throw new Error(`${pkg}/dist/index.js is missing: run \`pnpm build\` first`)
  }
  session = await startBrowser({ root: repo, index: 'packages/dvae/scripts/browser-page.html' })
})

afterAll(async () => {
  await session?.close()
})

/** Non-square and translucent, so the browser also resizes, centre-crops and composites over white. */
function testImage(width: number, height: number, hue: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x)
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2
      data[i] = inDisc ? 230 : (x * 255) / width
      data[i + 1] = inDisc ? hue : (y * 255) / height
      data[i + 2] = inDisc ? 40 : 255 - hue
      data[i + 3] = inDisc ? 255 : 64 + ((x + y) % 192)
    }
  }
  return { width, height, data }
}

interface BrowserResult {
  adapter: { backend: string }
  logits: number[]
  tokens: number[]
  searchedTokens: number[]
  recon: { width: number; height: number; data: number[] }[]
}

describe('dVAE in the browser (headless Chromium, navigator.gpu)', () => {
  it('ImageData → tokens → ImageData matches the CPU backend in Node', async () => {
    const inputs = [testImage(56, 40, 30), testImage(48, 64, 200)]
    const page = await session.browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(session.url)
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready, undefined, { timeout: 60_000 })
    const result = (await page.evaluate(
      (images) => (window as unknown as { roundTrip: (i: unknown) => Promise<unknown> }).roundTrip(images),
      inputs.map(({ width, height, data }) => ({ width, height, data: Array.from(data) })),
    )) as BrowserResult
    expect(errors).toEqual([])
    expect(result.adapter.backend).toBe('webgpu')

    const cpu = await device('cpu')
    const { model } = await loadDvae(cpu, fileURLToPath(modelUrl('dvae-emoji-32')))
    const pixels = imagesToTensor(cpu, inputs, model.config.imageSize)
    const logits = (await model.logits(pixels).read()) as Float32Array
    const scale = logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const tolerance = 1e-4 * scale
    expectClose(result.logits, logits, 1e-4, tolerance, 'logits')

    // Tokens must agree wherever the best code wins by more than both logits can move within
    // that tolerance (each by at most 2·tolerance, as |logit| ≤ scale).
    const vocab = model.config.vocabSize
    const positions = result.tokens.length
    const perImage = positions / inputs.length
    let decided = 0
    for (let p = 0; p < positions; p++) {
      const [n, s] = [Math.floor(p / perImage), p % perImage]
      const column = Array.from({ length: vocab }, (_, c) => logits[(n * vocab + c) * perImage + s]!)
      const sorted = [...column].sort((a, b) => b - a)
      if (sorted[0]! - sorted[1]! <= 4 * tolerance) continue
      decided++
      expect(result.tokens[p], `token at ${p}`).toBe(column.indexOf(sorted[0]!))
    }
    expect(decided, 'positions with a clear best code').toBeGreaterThan(positions * 0.75)

    // The browser's decoded ImageData equals Node's decode of the same tokens to within one level.
    const grid = model.gridSize
    const recon = await tensorToImages(model.decode(model.tokens(result.tokens, [inputs.length, grid, grid])))
    expect(result.recon.map(({ width, height }) => [width, height])).toEqual(recon.map(({ width, height }) => [width, height]))
    result.recon.forEach((image, i) => expectClose(image.data, recon[i]!.data, 0, 1, `recon ${i}`))

    // Searched tokens (one pass): their decodes here are no further from the images than the argmax's, and closer overall.
    const squaredErrors = async (tokens: number[]) => {
      const decoded = (await model.decode(model.tokens(tokens, [inputs.length, grid, grid])).read()) as Float32Array
      const original = (await pixels.read()) as Float32Array
      const per = original.length / inputs.length
      return inputs.map((_, i) => original.subarray(i * per, (i + 1) * per).reduce((e, v, j) => e + (decoded[i * per + j]! - v) ** 2, 0))
    }
    const argmaxErrors = await squaredErrors(result.tokens)
    const searchedErrors = await squaredErrors(result.searchedTokens)
    searchedErrors.forEach((e, i) => expect(e).toBeLessThanOrEqual(argmaxErrors[i]! * (1 + 1e-4)))
    expect(searchedErrors.reduce((a, b) => a + b)).toBeLessThan(0.95 * argmaxErrors.reduce((a, b) => a + b))
    model.dispose()
  })
})
