import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { gpt2Files } from './helpers.js'

// The public contract, exercised on the built package (run `pnpm build` first; turbo's test task
// depends on build). The path is computed so that typechecking does not need dist/.
const here = path.dirname(fileURLToPath(import.meta.url))
const distUrl = pathToFileURL(path.join(here, '../dist/index.js')).href
const load = () => import(/* @vite-ignore */ distUrl) as Promise<typeof import('../src/index.js')>

describe('built package contract', () => {
  it('exports map points at the built files', () => {
    const pkg = JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8'))
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' })
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types')
    expect(pkg.type).toBe('module')
    expect(pkg.sideEffects).toBe(false)
  })

  it('ClipTokenizer.load / encode / tokenize / decode', async () => {
    const { ClipTokenizer } = await load()
    const clip = await ClipTokenizer.load()
    const ids: number[] = clip.encode('a photo of a cat')
    expect(ids).toEqual([320, 1125, 539, 320, 2368])
    const batch: Int32Array[] = clip.tokenize(['a cat'], { contextLength: 77, truncate: true })
    expect(batch.length).toBe(1)
    expect(Array.from(batch[0]!.slice(0, 5))).toEqual([49406, 320, 2368, 49407, 0])
    expect(clip.decode(ids)).toBe('a photo of a cat ')
  })

  it('BPETokenizer.fromGpt2 / encode / decode', async () => {
    const { BPETokenizer, BpeFormatError, ContextLengthExceededError } = await load()
    const { encoderJson, vocabBpe } = gpt2Files()
    const gpt2 = BPETokenizer.fromGpt2(encoderJson, vocabBpe)
    const ids = gpt2.encode('Hello world')
    expect(ids).toEqual([15496, 995])
    expect(gpt2.decode(ids)).toBe('Hello world')
    expect(typeof BpeFormatError).toBe('function')
    expect(typeof ContextLengthExceededError).toBe('function')
  })
})
