import { spawnSync } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  cleanStaleTemps,
  openSafetensors,
  readSafetensorsFile,
  SafetensorsError,
  serializeSafetensors,
  writeFileAtomic,
  writeSafetensorsFile,
  type HostTensor,
} from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

const makeDir = useTempDirs()

const tensors: Record<string, HostTensor> = {
  'model.embed': { dtype: 'f32', shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => i / 7) },
  'optim.m.model.embed': { dtype: 'f32', shape: [4, 8], data: new Float32Array(32).fill(-0.25) },
  'step': { dtype: 'i32', shape: [], data: new Int32Array([1000]) },
}

describe('safetensors files on disk', () => {
  it('writeSafetensorsFile writes exactly what serializeSafetensors produces', async () => {
    const path = join(await makeDir(), 'w.safetensors')
    await writeSafetensorsFile(path, tensors, { a: '1' }, { storeAs: (n) => (n === 'model.embed' ? 'F16' : undefined) })
    const expected = serializeSafetensors(tensors, { a: '1' }, { storeAs: (n) => (n === 'model.embed' ? 'F16' : undefined) })
    expect(new Uint8Array(await readFile(path))).toEqual(expected)
  })

  it('openSafetensors reads the header, then single tensors on demand', async () => {
    const path = join(await makeDir(), 'w.safetensors')
    await writeSafetensorsFile(path, tensors, { run: 'x' })
    const file = await openSafetensors(path)
    try {
      expect(file.metadata).toEqual({ run: 'x' })
      expect(file.names()).toHaveLength(3)
      expect(file.info('step')).toMatchObject({ dtype: 'I32', shape: [], byteLength: 4 })
      expect(await file.get('optim.m.model.embed')).toEqual(tensors['optim.m.model.embed'])
      expect(await file.get('step')).toEqual(tensors.step)
      await expect(file.get('missing')).rejects.toMatchObject({ code: 'not_found' })
    } finally {
      await file.close()
    }
  })

  it('readSafetensorsFile loads everything', async () => {
    const path = join(await makeDir(), 'w.safetensors')
    await writeSafetensorsFile(path, tensors)
    expect(await readSafetensorsFile(path)).toEqual({ metadata: {}, tensors })
  })

  it('reports truncated and corrupt files as SafetensorsError', async () => {
    const dir = await makeDir()
    const bytes = serializeSafetensors(tensors)
    await writeFile(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 3))
    await writeFile(join(dir, 'tiny.safetensors'), bytes.subarray(0, 3))
    await expect(openSafetensors(join(dir, 'cut.safetensors'))).rejects.toMatchObject({ code: 'truncated' })
    await expect(openSafetensors(join(dir, 'tiny.safetensors'))).rejects.toBeInstanceOf(SafetensorsError)
  })

  it('a file that shrinks after opening yields truncated, not garbage', async () => {
    const path = join(await makeDir(), 'w.safetensors')
    await writeSafetensorsFile(path, tensors)
    const file = await openSafetensors(path)
    try {
      const bytes = await readFile(path)
      await writeFile(path, bytes.subarray(0, file.info('step').byteOffset))
      await expect(file.get('step')).rejects.toMatchObject({ code: 'truncated' })
    } finally {
      await file.close()
    }
  })
})

describe('writeFileAtomic', () => {
  it('replaces the file with one buffer or a stream of chunks, leaving no temp files', async () => {
    const dir = await makeDir()
    const path = join(dir, 'out.bin')
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]))
    expect([...(await readFile(path))]).toEqual([1, 2, 3])
    async function* chunks() {
      yield new Uint8Array([9])
      yield new Uint8Array([8, 7])
    }
    await writeFileAtomic(path, chunks())
    expect([...(await readFile(path))]).toEqual([9, 8, 7])
    expect(await readdir(dir)).toEqual(['out.bin'])
  })

  it('on a failing source, removes its temp file and leaves the old file untouched', async () => {
    const dir = await makeDir()
    const path = join(dir, 'out.bin')
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]))
    async function* failing() {
      yield new Uint8Array(1000)
      throw new Error('disk on fire')
    }
    await expect(writeFileAtomic(path, failing())).rejects.toThrow('disk on fire')
    expect([...(await readFile(path))]).toEqual([1, 2, 3])
    expect(await readdir(dir)).toEqual(['out.bin'])
  })

  it('fails cleanly when the target cannot be replaced', async () => {
    const dir = await makeDir()
    await expect(writeFileAtomic(join(dir, 'missing', 'x'), new Uint8Array(1))).rejects.toMatchObject({ code: 'ENOENT' })
    await writeFile(join(dir, 'keep'), 'x')
    // Renaming a file over a non-empty directory fails: the temp must not linger.
    await mkdir(join(dir, 'target'))
    await writeFile(join(dir, 'target', 'inner'), 'y')
    await expect(writeFileAtomic(join(dir, 'target'), new Uint8Array(1))).rejects.toThrow()
    expect((await readdir(dir)).sort()).toEqual(['keep', 'target'])
  })

  it('writeSafetensorsFile rejects invalid tensors before creating any file', async () => {
    const dir = await makeDir()
    const bad = { x: { dtype: 'f32', shape: [5], data: new Float32Array(2) } } satisfies Record<string, HostTensor>
    await expect(writeSafetensorsFile(join(dir, 'x.safetensors'), bad)).rejects.toMatchObject({ code: 'shape_mismatch' })
    expect(await readdir(dir)).toEqual([])
  })
})

describe('cleanStaleTemps', () => {
  it('removes temps of dead writers only', async () => {
    const dir = await makeDir()
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid
    const dead = `.checkpoint.safetensors.tmp-${deadPid}-abcdef`
    const live = `.checkpoint.safetensors.tmp-${process.pid}-123456`
    for (const name of [dead, live, 'checkpoint.safetensors', '.hidden']) await writeFile(join(dir, name), 'x')
    expect(await cleanStaleTemps(dir)).toEqual([dead])
    expect((await readdir(dir)).sort()).toEqual([live, '.hidden', 'checkpoint.safetensors'].sort())
  })
})
