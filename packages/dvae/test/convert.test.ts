import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { io } from '@tessera/tensor-core'
import { loadDvae } from '../src/index.js'
import { device, maxRelativeError } from './helpers.js'

// What `scripts/convert_openai_dvae.py --self-test fixtures/converted` wrote (its pickles
// removed): a model pickled the way OpenAI's encoder.pkl / decoder.pkl were, converted, with
// PyTorch's logits for one input. Committed so the suite needs no PyTorch; regenerate with
//   /usr/bin/python3 packages/dvae/scripts/convert_openai_dvae.py --self-test packages/dvae/fixtures/converted
//   rm packages/dvae/fixtures/converted/*.pkl
const DIR = fileURLToPath(new URL('../fixtures/converted', import.meta.url))

describe('convert_openai_dvae.py output', () => {
  it.each(['cpu', 'webgpu'] as const)('loads unchanged and gives PyTorch\'s logits (%s)', async (backend) => {
    const d = await device(backend)
    const { model, manifest } = await loadDvae(d, DIR)
    expect(manifest.source).toBe('convert_openai_dvae.py --self-test')
    expect(manifest.config).toMatchObject({ groupCount: 4, nHid: 8, nBlkPerGroup: 2, vocabSize: 64, nInit: 8 })
    const { tensors: ref } = await io.readSafetensorsFile(join(DIR, 'reference.safetensors'))
    const logits = model.logits(d.tensor(ref.images!.data, ref.images!.shape))
    expect(maxRelativeError(await logits.read(), ref.logits!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
    logits.dispose()
    model.dispose()
  })
})
