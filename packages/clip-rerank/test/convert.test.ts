import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readSafetensorsFile, tidy } from '@tessera/tensor-core'
import { CLIP, configFromStateDict, readClipManifest, loadClipStateDict } from '../src/index.js'
import { device, maxRelativeError } from './helpers.js'

const PYTHON = '/usr/bin/python3'
const CONVERTER = fileURLToPath(new URL('../scripts/convert_openai_clip.py', import.meta.url))
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0

describe.runIf(hasTorch)('convert_openai_clip.py', () => {
  it('turns a traced fp16 OpenAI-style archive into weights that load unchanged (fp16 → f32) and give the same features', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clip-convert-'))
    try {
      const run = spawnSync(PYTHON, [CONVERTER, '--self-test', dir], { encoding: 'utf8' })
      expect(run.status, run.stderr).toBe(0)
      const manifest = await readClipManifest(dir)
      expect(manifest.tokenizer).toBe('clip')
      const { tensors } = await readSafetensorsFile(join(dir, 'clip.safetensors'))
      // The converter keeps fp16; the reader hands them over as f32.
      expect(configFromStateDict(tensors)).toEqual(manifest.config)
      const d = await device('cpu')
      const model = new CLIP(d, manifest.config)
      loadClipStateDict(model, tensors)
      const { tensors: ref } = await readSafetensorsFile(join(dir, 'reference.safetensors'))
      const [img, txt] = tidy(() => [
        model.encodeImage(d.tensor(ref.images!.data, ref.images!.shape)),
        model.encodeText(d.tensor(ref.tokens!.data, ref.tokens!.shape)),
      ])
      expect(maxRelativeError(await img!.read(), ref.image_features!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
      expect(maxRelativeError(await txt!.read(), ref.text_features!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
      img!.dispose()
      txt!.dispose()
      model.dispose()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
