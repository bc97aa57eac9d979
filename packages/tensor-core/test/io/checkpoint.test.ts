import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CHECKPOINT_FILE,
  CheckpointError,
  loadCheckpoint,
  PREVIOUS_CHECKPOINT_FILE,
  saveCheckpoint,
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
    expect(loaded).toEqual({ ...checkpointAt(5), path: join(dir, CHECKPOINT_FILE), skipped: [] })
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
    await saveCheckpoint(dir, checkpointAt(3))
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
