import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TesseraError } from '../../src/errors.js'
import {
  CHECKPOINT_FILE,
  CheckpointChecksumError,
  CheckpointError,
  CORRUPT_CHECKPOINT_FILE,
  type CheckpointFallback,
  loadCheckpoint,
  PREVIOUS_CHECKPOINT_FILE,
  saveCheckpoint,
  parseSafetensors,
  serializeSafetensors,
  SafetensorsError,
  type HostTensor,
} from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

const makeDir = useTempDirs()

function checkpointAt(step: number) {
  const tensors: Record<string, HostTensor> = {
    'model.blocks.input.w': { dtype: 'f32', shape: [2, 2], data: new Float32Array([step, 1, 2, 3]) },
    'optim.m.model.blocks.input.w': { dtype: 'f32', shape: [2, 2], data: new Float32Array([0.1, 0.2, 0.3, step]) },
  }
  const state = { step, rng: [1, 2, 3, step], data: { epoch: 0, offset: step * 32 }, optim: { lr: 3e-4, betas: [0.9, 0.95] } }
  return { tensors, state }
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('returns null for an empty or missing directory', async () => {
    const dir = await makeDir()
    expect(await loadCheckpoint(dir)).toBeNull()
    expect(await loadCheckpoint(join(dir, 'never-created'))).toBeNull()
  })

  it('round-trips tensors and state through one safetensors file with versioned metadata', async () => {
    const dir = join(await makeDir(), 'run')
    await saveCheckpoint(dir, checkpointAt(5))
    const loaded = await loadCheckpoint(dir)
    expect(loaded).toEqual({ ...checkpointAt(5), path: join(dir, CHECKPOINT_FILE), skipped: [], fallback: null, verified: true })
    expect(await readdir(dir)).toEqual([CHECKPOINT_FILE])
    const header = (await readFile(join(dir, CHECKPOINT_FILE))).subarray(8, 400).toString('latin1')
    expect(header).toContain('"tessera.format":"1"')
    expect(header).toContain('"tessera.state":')
  })

  it('keeps the previous checkpoint as checkpoint.prev.safetensors', async () => {
    const dir = await makeDir()
    for (const step of [1, 2, 3]) await saveCheckpoint(dir, checkpointAt(step))
    expect((await readdir(dir)).sort()).toEqual([PREVIOUS_CHECKPOINT_FILE, CHECKPOINT_FILE].sort())
    expect((await loadCheckpoint(dir))!.state).toEqual(checkpointAt(3).state)
    await rm(join(dir, CHECKPOINT_FILE))
    expect((await loadCheckpoint(dir))!.state).toEqual(checkpointAt(2).state)
  })

  it('falls back to prev when a crash left current missing (between the two renames), and recovers on the next save', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await saveCheckpoint(dir, checkpointAt(2))
    await rm(join(dir, CHECKPOINT_FILE))
    const loaded = await loadCheckpoint(dir)
    expect(loaded).toMatchObject({ state: checkpointAt(1).state, path: join(dir, PREVIOUS_CHECKPOINT_FILE), skipped: [] })
    expect(loaded!.fallback).toEqual({ from: join(dir, CHECKPOINT_FILE), to: join(dir, PREVIOUS_CHECKPOINT_FILE), reason: 'missing' })
    expect(await saveCheckpoint(dir, checkpointAt(3))).toEqual({ path: join(dir, CHECKPOINT_FILE), previous: 'none' })
    expect((await loadCheckpoint(dir))!.state).toEqual(checkpointAt(3).state)
    await rm(join(dir, CHECKPOINT_FILE))
    expect((await loadCheckpoint(dir))!.state).toEqual(checkpointAt(1).state) // prev was not overwritten by a missing current
  })

  it('falls back to prev when current is corrupt, and says why', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await saveCheckpoint(dir, checkpointAt(2))
    const current = join(dir, CHECKPOINT_FILE)
    const bytes = await readFile(current)
    await writeFile(current, bytes.subarray(0, bytes.length - 5))
    const loaded = await loadCheckpoint(dir)
    expect(loaded!.state).toEqual(checkpointAt(1).state)
    expect(loaded!.tensors).toEqual(checkpointAt(1).tensors)
    expect(loaded!.skipped).toHaveLength(1)
    expect(loaded!.skipped[0]!.path).toBe(current)
    expect(loaded!.skipped[0]!.error).toBeInstanceOf(SafetensorsError)
  })

  it('falls back when current is a valid safetensors file but not a Tessera checkpoint of this format', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await saveCheckpoint(dir, checkpointAt(2))
    await writeFile(join(dir, CHECKPOINT_FILE), serializeSafetensors({}, { 'tessera.format': '2', 'tessera.state': '{}' }))
    const loaded = await loadCheckpoint(dir)
    expect(loaded!.state).toEqual(checkpointAt(1).state)
    expect(String(loaded!.skipped[0]!.error)).toMatch(/unsupported checkpoint format "2"/)
  })

  it('throws CheckpointError listing every file when nothing is loadable (never a silent fresh start)', async () => {
    const dir = await makeDir()
    await writeFile(join(dir, CHECKPOINT_FILE), 'garbage')
    await writeFile(join(dir, PREVIOUS_CHECKPOINT_FILE), serializeSafetensors({}, { 'tessera.format': '1', 'tessera.state': '{bad' }))
    const error = await loadCheckpoint(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CheckpointError)
    expect((error as CheckpointError).causes.map((c) => c.path)).toEqual([join(dir, CHECKPOINT_FILE), join(dir, PREVIOUS_CHECKPOINT_FILE)])
    expect((error as Error).message).toMatch(/not valid JSON/)
  })

  it('rejects state that JSON cannot represent before touching the directory', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await expect(saveCheckpoint(dir, { tensors: {}, state: undefined })).rejects.toBeInstanceOf(CheckpointError)
    expect(await readdir(dir)).toEqual([CHECKPOINT_FILE])
  })
})

/** Flips bit 0 of the byte at `offset` (negative: from the end) of `path`. */
async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path)
  bytes[offset < 0 ? bytes.length + offset : offset]! ^= 1
  await writeFile(path, bytes)
}

describe('checkpoint checksums', () => {
  it('a flipped tensor byte is a CheckpointChecksumError naming the file and tensor; the loader falls back to prev and reports it', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await saveCheckpoint(dir, checkpointAt(2))
    const current = join(dir, CHECKPOINT_FILE)
    await flipByte(current, -1) // the last tensor's last byte: still a well-formed file
    const heard: CheckpointFallback[] = []
    const loaded = await loadCheckpoint(dir, { onFallback: (f) => heard.push(f) })
    expect(loaded).toMatchObject({ state: checkpointAt(1).state, tensors: checkpointAt(1).tensors, path: join(dir, PREVIOUS_CHECKPOINT_FILE), verified: true })
    const reason = loaded!.fallback!.reason as CheckpointChecksumError
    expect(reason).toBeInstanceOf(CheckpointChecksumError)
    expect(reason).toBeInstanceOf(TesseraError)
    expect(reason).toMatchObject({ code: 'checkpoint_checksum', path: current, part: 'optim.m.model.blocks.input.w' })
    expect(reason.message).toContain(current)
    expect(loaded!.fallback).toMatchObject({ from: current, to: join(dir, PREVIOUS_CHECKPOINT_FILE) })
    expect(heard).toEqual([loaded!.fallback])
    expect(loaded!.skipped).toEqual([{ path: current, error: reason }])

    // Both damaged: an error listing both, never a silent fresh start.
    await flipByte(join(dir, PREVIOUS_CHECKPOINT_FILE), -1)
    const error = (await loadCheckpoint(dir).catch((e: unknown) => e)) as CheckpointError
    expect(error).toBeInstanceOf(CheckpointError)
    expect(error.causes.map((c) => (c.error as CheckpointChecksumError).code)).toEqual(['checkpoint_checksum', 'checkpoint_checksum'])
  })

  it('a changed state is caught too, as is a checksum list that does not cover every tensor', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(2))
    const current = join(dir, CHECKPOINT_FILE)
    const bytes = await readFile(current)
    const at = bytes.indexOf('\\"step\\":2')
    expect(at).toBeGreaterThan(0)
    bytes[at + 9] = '7'.charCodeAt(0) // still valid JSON: step 7
    await writeFile(current, bytes)
    const error = await loadCheckpoint(dir).catch((e: unknown) => e)
    expect((error as CheckpointError).causes[0]!.error).toMatchObject({ code: 'checkpoint_checksum', part: 'state', path: current })

    // A tensor the checksum list does not cover (spliced in with the list of a sound file) is rejected.
    await rm(current)
    await saveCheckpoint(dir, checkpointAt(2))
    const { metadata } = parseSafetensors(await readFile(current))
    const spliced = { ...checkpointAt(2).tensors, extra: { dtype: 'f32' as const, shape: [1], data: new Float32Array([1]) } }
    await writeFile(current, serializeSafetensors(spliced, metadata))
    const rejected = (await loadCheckpoint(dir).catch((e: unknown) => e)) as CheckpointError
    expect(rejected.causes[0]!.error).toMatchObject({ code: 'checkpoint_checksum', part: 'extra', message: /'extra' has no checksum/ })
  })

  it('loads a checkpoint written before checksums existed (verified: false) and rotates it into prev as usual', async () => {
    const dir = await makeDir()
    const old = checkpointAt(4)
    // What saveCheckpoint wrote before: the format and state metadata only.
    await writeFile(join(dir, CHECKPOINT_FILE), serializeSafetensors(old.tensors, { 'tessera.format': '1', 'tessera.state': JSON.stringify(old.state) }))
    expect(await loadCheckpoint(dir)).toEqual({ ...old, path: join(dir, CHECKPOINT_FILE), skipped: [], fallback: null, verified: false })
    expect((await saveCheckpoint(dir, checkpointAt(5))).previous).toBe('rotated')
    await rm(join(dir, CHECKPOINT_FILE))
    expect(await loadCheckpoint(dir)).toMatchObject({ state: old.state, verified: false })
  })

  it('never rotates a damaged current over a good prev: a save after a fallback moves it aside', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, checkpointAt(1))
    await saveCheckpoint(dir, checkpointAt(2))
    const current = join(dir, CHECKPOINT_FILE)
    await flipByte(current, -3)
    const resumed = await loadCheckpoint(dir)
    expect(resumed!.state).toEqual(checkpointAt(1).state)
    // The run resumed from prev (step 1) and saves step 2 again.
    const saved = await saveCheckpoint(dir, checkpointAt(2))
    expect(saved).toMatchObject({ path: current, previous: 'quarantined', corrupt: expect.any(CheckpointChecksumError) })
    expect((await readdir(dir)).sort()).toEqual([CHECKPOINT_FILE, CORRUPT_CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE].sort())
    // prev is still the good step-1 file, not the damaged step-2 one.
    await rm(current)
    expect(await loadCheckpoint(dir)).toMatchObject({ state: checkpointAt(1).state, tensors: checkpointAt(1).tensors, skipped: [] })
  })
})
