import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readSafetensorsFile } from '@tessera/tensor-core'
import { loadDvae } from '../src/index.js'
import { device, maxRelativeError } from './helpers.js'

const PYTHON = '/usr/bin/python3'
const CONVERTER = fileURLToPath(new URL('../scripts/convert_openai_dvae.py', import.meta.url))
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0

describe.runIf(hasTorch)('convert_openai_dvae.py', () => {
  it('turns pickled dall_e-style modules into weights that load unchanged and give the same logits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dvae-convert-'))
    try {
      const run = spawnSync(PYTHON, [CONVERTER, '--self-test', dir], { encoding: 'utf8' })
      expect(run.status, run.stderr).toBe(0)
      const d = await device('cpu')
      const { model, manifest } = await loadDvae(d, dir)
      expect(manifest.config).toMatchObject({ groupCount: 4, nHid: 16, nBlkPerGroup: 2, vocabSize: 64, nInit: 16 })
      const { tensors: ref } = await readSafetensorsFile(join(dir, 'reference.safetensors'))
      const logits = model.logits(d.tensor(ref.images!.data, ref.images!.shape))
      expect(maxRelativeError(await logits.read(), ref.logits!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
      logits.dispose()
      model.dispose()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
