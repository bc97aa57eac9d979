import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The browser path: the built package runs in headless Chromium on navigator.gpu
 * (SwiftShader), checked case by case against the CPU backend in the same page.
 */
const CHROMIUM = '/usr/bin/chromium'
const root = fileURLToPath(new URL('..', import.meta.url))
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json' }

let server: Server
let browser: BrowserContext
let profile: string
let url: string

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium for the browser tests`)
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `pnpm build` first')
  server = createServer((req, res) => {
    const path = req.url === '/' ? '/scripts/browser-page.html' : normalize(decodeURIComponent(req.url!.split('?')[0]!))
    const file = join(root, path)
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'))
  // A fresh profile per run (launchPersistentContext is how playwright takes --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
  server?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

describe('browser (headless Chromium, navigator.gpu)', () => {
  it('every conformance case matches the CPU backend', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(url)
    const result = await page.waitForFunction(() => (window as unknown as { conformance?: unknown }).conformance, undefined, { timeout: 240_000 })
    const { adapter, rows } = (await result.jsonValue()) as { adapter: { backend: string; description: string }; rows: { name: string; ok: boolean; error: string | null }[] }
    expect(errors).toEqual([])
    expect(adapter.backend).toBe('webgpu')
    expect(rows.length).toBeGreaterThan(5)
    for (const r of rows) expect(r, `${r.name}: ${r.error} ${JSON.stringify(r)}`).toMatchObject({ ok: true })
  })
})
