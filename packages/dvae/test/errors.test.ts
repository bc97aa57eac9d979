import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ShapeError, io } from '@tessera/tensor-core'
import { DiscreteVAE, DvaeConfigError, DvaeInputError, DvaeWeightsError, loadDvae, preset, resolveConfig, tokenGridSize } from '../src/index.js'
import { device } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny', import.meta.url))

describe('configuration', () => {
  it('defaults to OpenAI sizes and checks every field', () => {
    const c = resolveConfig()
    expect(c).toMatchObject({ groupCount: 4, nHid: 256, nBlkPerGroup: 2, vocabSize: 8192, nInit: 128, imageSize: 256 })
    expect(tokenGridSize(c)).toBe(32)
    expect(tokenGridSize(preset('emoji-32'))).toBe(8)
    expect(() => resolveConfig({ nHid: 18 })).toThrow(/multiple of 4/)
    expect(() => resolveConfig({ imageSize: 20 })).toThrow(DvaeConfigError)
    expect(() => resolveConfig({ vocabSize: 0 })).toThrow(/vocabSize/)
    expect(() => preset('huge')).toThrow(/known presets are openai, emoji-32, emoji-32-large, mid, tiny/)
  })
})

describe('typed errors', () => {
  it('rejects images and tokens of the wrong shape, dtype or range', async () => {
    const d = await device('cpu')
    const model = new DiscreteVAE(d, 'tiny')
    const fourChannels = d.tensor(new Float32Array(4 * 32 * 32), [1, 4, 32, 32])
    expect(() => model.encode(fourChannels)).toThrow(DvaeInputError)
    const oddSize = d.tensor(new Float32Array(3 * 20 * 20), [1, 3, 20, 20])
    expect(() => model.encode(oddSize)).toThrow(/multiples of 8/)
    const floatTokens = d.tensor(new Float32Array(16), [1, 4, 4])
    expect(() => model.decode(floatTokens)).toThrow(/i32/)
    expect(() => model.tokens([0, 1, 64, 2], [1, 2, 2])).toThrow(/token 64 at index 2 is outside the codebook \[0, 64\)/)
    expect(() => model.tokens([0, 1, 2], [1, 2, 2])).toThrow(DvaeInputError)
    for (const t of [fourChannels, oddSize, floatTokens]) t.dispose()
    model.dispose()
  })

  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`decode of a raw i32 tensor with ids outside the codebook is a ShapeError on ${backend}, not an image`, async () => {
      const d = await device(backend)
      const model = new DiscreteVAE(d, 'tiny')
      for (const bad of [9999, -1]) {
        const tokens = d.tensor(Int32Array.from([0, 1, bad, 2]), [1, 2, 2])
        // CPU: at once; WebGPU: at the read of the image (its kernels cannot throw).
        const attempt = async () => model.decode(tokens).read()
        await expect(attempt()).rejects.toThrow(new RegExp(`^index ${bad} is out of range \\[0, 64\\)$`))
        await expect(attempt()).rejects.toBeInstanceOf(ShapeError)
        tokens.dispose()
      }
      model.dispose()
    })
  }

  it('names missing and unexpected weights and the file they came from', async () => {
    const d = await device('cpu')
    const dir = await mkdtemp(join(tmpdir(), 'dvae-weights-'))
    try {
      await cp(FIXTURE, dir, { recursive: true })
      const { tensors } = await io.readSafetensorsFile(join(dir, 'decoder.safetensors'))
      const { ['blocks.output.conv.b']: _dropped, ...rest } = tensors
      await io.writeSafetensorsFile(join(dir, 'decoder.safetensors'), { ...rest, 'blocks.output.conv.bias': tensors['blocks.output.conv.b']! })
      const error = await loadDvae(d, dir).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DvaeWeightsError)
      expect((error as Error).message).toMatch(/decoder\.safetensors.*missing: blocks\.output\.conv\.b.*unexpected: blocks\.output\.conv\.bias/)

      await writeFile(join(dir, 'manifest.json'), JSON.stringify({ format: 'tessera-dvae', version: 1, config: { ...preset('tiny'), vocabSize: 128 } }))
      await expect(loadDvae(d, dir)).rejects.toThrow(/encoder\.safetensors.*shape mismatch: blocks\.output\.conv\.w expected \[128, 128, 1, 1\] got \[64, 128, 1, 1\]/)
      await expect(loadDvae(d, join(dir, 'nowhere'))).rejects.toThrow(/no manifest\.json/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
