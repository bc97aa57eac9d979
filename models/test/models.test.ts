import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MODELS, modelUrl, shippedName } from '../index.js'

const FORMATS = { bundle: 'tessera-bundle', dvae: 'tessera-dvae', clip: 'tessera-clip' } as const
const ROOT = fileURLToPath(new URL('..', import.meta.url))

describe('@tessera/models', () => {
  it('lists every model directory it ships, and only those', () => {
    const dirs = readdirSync(ROOT).filter((name) => statSync(`${ROOT}/${name}`).isDirectory() && existsSync(`${ROOT}/${name}/manifest.json`))
    expect(dirs.sort()).toEqual(Object.keys(MODELS).sort())
  })

  it.each(Object.entries(MODELS))('%s is a %s directory with a manifest of that format', async (name, kind) => {
    const { readFile } = await import('node:fs/promises')
    const manifest = JSON.parse(await readFile(new URL('manifest.json', modelUrl(name as keyof typeof MODELS)), 'utf8'))
    expect(manifest.format).toBe(FORMATS[kind])
  })

  it('shippedName: a shipped model of a kind by its name or its name without the kind', () => {
    expect(shippedName('dvae-emoji-32', 'dvae')).toBe('dvae-emoji-32')
    expect(shippedName('emoji-32', 'dvae')).toBe('dvae-emoji-32') // what older token data records
    expect(shippedName('emoji', 'clip')).toBe('clip-emoji')
    expect(shippedName('clip-emoji', 'dvae')).toBeUndefined() // another kind
    expect(shippedName('runs/dvae', 'dvae')).toBeUndefined()
    expect(shippedName('toString', 'dvae')).toBeUndefined()
  })

  it('names the shipped models when asked for another', () => {
    expect(() => modelUrl('nope' as never)).toThrow(/no model 'nope'; shipped: emoji, shapes, dvae-emoji-32/)
  })
})
