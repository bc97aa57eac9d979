/**
 * Replacing a file must be a rename of the fully written temp file, never a copy over the
 * target: a copy rewrites the target in place (a reader, or a crash, can see it half written),
 * whereas after a rename the target *is* the temp file's inode and a reader that opened the old
 * file keeps reading the old bytes whole. These tests check exactly that, for writeFileAtomic
 * and for saveCheckpoint.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, writeFileAtomic, type HostTensor } from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

const makeDir = useTempDirs()
const fsPromises = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises')
const realOpen = fsPromises.open

/**
 * Records the inode of every file opened exclusively ('wx': how temp files are created) by
 * code that imports node:fs/promises, by patching the builtin for the duration of a test.
 */
function recordTempInodes(): { path: string; ino: number }[] {
  const opened: { path: string; ino: number }[] = []
  fsPromises.open = (async (path: Parameters<typeof realOpen>[0], flags?: Parameters<typeof realOpen>[1], mode?: Parameters<typeof realOpen>[2]) => {
    const handle = await realOpen(path, flags, mode)
    if (flags === 'wx') opened.push({ path: String(path), ino: (await handle.stat()).ino })
    return handle
  }) as typeof realOpen
  syncBuiltinESMExports()
  return opened
}

afterEach(() => {
  fsPromises.open = realOpen
  syncBuiltinESMExports()
})

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill)

describe('writeFileAtomic replaces by rename', () => {
  it('the target becomes the written temp file (same inode); the old file stays whole for a reader that has it open', async () => {
    const dir = await makeDir()
    const target = join(dir, 'weights.bin')
    await writeFile(target, bytes(1 << 20, 1))
    const oldIno = (await stat(target)).ino
    const reader = await open(target, 'r')
    let tempIno = -1
    const seenDuringWrite: number[] = []
    async function* source() {
      for (let i = 0; i < 8; i++) {
        yield bytes(256 << 10, 2)
        // While the temp file grows, the target is still the old file, complete.
        const temp = (await readdir(dir)).find((n) => n.includes('.tmp-'))!
        tempIno = (await stat(join(dir, temp))).ino
        const now = await readFile(target)
        seenDuringWrite.push(now.length)
        expect(now.every((b) => b === 1)).toBe(true)
      }
    }
    await writeFileAtomic(target, source())
    expect(seenDuringWrite).toEqual(Array(8).fill(1 << 20))
    const after = await stat(target)
    expect(after.ino).toBe(tempIno)
    expect(after.ino).not.toBe(oldIno)
    expect(after.size).toBe(2 << 20)
    const old = Buffer.alloc(1 << 20)
    expect((await reader.read(old, 0, old.length, 0)).bytesRead).toBe(1 << 20)
    expect(old.every((b) => b === 1)).toBe(true)
    await reader.close()
    expect(await readdir(dir)).toEqual(['weights.bin'])
  })
})

describe('saveCheckpoint replaces by rename', () => {
  const tensors = (v: number): Record<string, HostTensor> => ({ 'model.w': { dtype: 'f32', shape: [4096], data: new Float32Array(4096).fill(v) } })

  it('current is the temp file it wrote (same inode), prev is the old current (same inode), and a reader of the old one keeps it whole', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, { tensors: tensors(1), state: { step: 1 } })
    const firstIno = (await stat(join(dir, CHECKPOINT_FILE))).ino
    const reader = await open(join(dir, CHECKPOINT_FILE), 'r')
    const firstBytes = await readFile(join(dir, CHECKPOINT_FILE))

    const temps = recordTempInodes()
    await saveCheckpoint(dir, { tensors: tensors(2), state: { step: 2 } })
    expect(temps).toHaveLength(1)
    expect(temps[0]!.path).toContain('.tmp-')
    expect((await stat(join(dir, CHECKPOINT_FILE))).ino).toBe(temps[0]!.ino)
    expect((await stat(join(dir, PREVIOUS_CHECKPOINT_FILE))).ino).toBe(firstIno)
    expect((await readdir(dir)).sort()).toEqual([PREVIOUS_CHECKPOINT_FILE, CHECKPOINT_FILE].sort())

    const old = Buffer.alloc(firstBytes.length)
    expect((await reader.read(old, 0, old.length, 0)).bytesRead).toBe(firstBytes.length)
    expect(old.equals(firstBytes)).toBe(true)
    await reader.close()
    expect(await loadCheckpoint(dir)).toMatchObject({ state: { step: 2 }, skipped: [] })
  })
})
