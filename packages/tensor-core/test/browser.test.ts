import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBrowser } from '../../../scripts/browser-harness.mjs'

/**
 * The browser path: the built package runs in headless Chromium on navigator.gpu
 * (SwiftShader), checked case by case against the CPU backend in the same page.
 */
const root = fileURLToPath(new URL('..', import.meta.url))

let session: Awaited<ReturnType<typeof startBrowser>>

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `pnpm build` first')
  session = await startBrowser({ root, index: 'scripts/browser-page.html' })
})

afterAll(async () => {
  await session?.close()
})

describe('browser (headless Chromium, navigator.gpu)', () => {
  it('every conformance case matches the CPU backend', async () => {
    const page = await session.browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(session.url)
    const result = await page.waitForFunction(() => (window as unknown as { conformance?: unknown }).conformance, undefined, { timeout: 240_000 })
    const { adapter, rows } = (await result.jsonValue()) as { adapter: { backend: string; architecture: string; software: boolean }; rows: { name: string; ok: boolean; error: string | null }[] }
    expect(errors).toEqual([])
    expect(adapter.backend).toBe('webgpu')
    // Headless Chromium here runs SwiftShader; taken for a GPU it got the kernel variants that are 10× slower on a CPU.
    expect(adapter.architecture).toBe('swiftshader')
    expect(adapter.software).toBe(true)
    expect(rows.length).toBeGreaterThan(5)
    for (const r of rows) expect(r, `${r.name}: ${r.error} ${JSON.stringify(r)}`).toMatchObject({ ok: true })
  })
})
