// The browser tests' one way to reach a page: a static server over a directory and Debian's
// headless Chromium (never a downloaded browser) with WebGPU enabled (SwiftShader here).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize, sep } from 'node:path'
import { chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

const TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.html': 'text/html',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
}

// Without the network flags Chromium keeps dialling Google's services on a closed network.
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
]

/**
 * Serves `root` over HTTP on 127.0.0.1 (`/` is `index`, a path under root) and starts
 * Chromium with a fresh profile. Returns `{ url, browser, close }`; `close` stops both and
 * deletes the profile. `webgpu: false` leaves out --enable-unsafe-webgpu (what a browser
 * without WebGPU shows).
 */
export async function startBrowser({ root, index, webgpu = true }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium for the browser tests`)
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0] === '/' ? `/${index}` : normalize(decodeURIComponent(req.url.split('?')[0]))
    const file = join(root, path)
    if (!(file + sep).startsWith(root.endsWith(sep) ? root : root + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/`
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'))
  let browser
  try {
    // launchPersistentContext is how playwright takes a --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: webgpu ? FLAGS : FLAGS.filter((f) => f !== '--enable-unsafe-webgpu') })
  } catch (error) {
    server.close()
    rmSync(profile, { recursive: true, force: true })
    throw error
  }
  return {
    url,
    browser,
    async close() {
      await browser.close()
      server.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
