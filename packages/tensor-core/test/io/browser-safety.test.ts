/**
 * The io layer must bundle for browsers: only `node-*` modules may touch Node,
 * and even they may only import Node built-ins lazily (dynamic import) or as types.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ioSourceDir = join(dirname(fileURLToPath(import.meta.url)), '../../src/io')
const sources = readdirSync(ioSourceDir)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => ({ name, text: readFileSync(join(ioSourceDir, name), 'utf8') }))

describe('browser safety of src/io', () => {
  it('has no static value imports of Node built-ins anywhere', () => {
    for (const { name, text } of sources) {
      const staticNodeImports = text.match(/^import (?!type )[^\n]*from 'node:[^']+'/gm) ?? []
      expect(staticNodeImports, name).toEqual([])
    }
  })

  it('keeps Node APIs out of the browser-safe modules', () => {
    const browserSafe = sources.filter(({ name }) => !name.startsWith('node-') && name !== 'index.ts')
    expect(browserSafe.length).toBeGreaterThan(5)
    for (const { name, text } of browserSafe) {
      expect(text, name).not.toMatch(/['"]node:|\bprocess\.|\bBuffer\b|\brequire\(/)
    }
  })
})
