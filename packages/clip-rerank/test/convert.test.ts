import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tidy, io } from '@tessera/tensor-core'
import { configFromStateDict, loadClip } from '../src/index.js'
import { device, maxRelativeError } from './helpers.js'

// What `scripts/convert_openai_clip.py --self-test fixtures/converted` wrote: a tiny random CLIP
// traced into an fp16 TorchScript archive as OpenAI ships them, converted (fp16 kept), with
// PyTorch's features of the fp16-rounded weights; the script also checked that an open_clip
// checkpoint of it converts to the same tensors. Committed so the suite needs no PyTorch;
// regenerate with /usr/bin/python3 packages/clip-rerank/scripts/convert_openai_clip.py --self-test packages/clip-rerank/fixtures/converted
const DIR = fileURLToPath(new URL('../fixtures/converted', import.meta.url))

describe('convert_openai_clip.py output', () => {
  it.each(['cpu', 'webgpu'] as const)("loads unchanged (fp16 → f32) and gives PyTorch's features (%s)", async (backend) => {
    const d = await device(backend)
    const { model, manifest } = await loadClip(d, DIR)
    expect(manifest.source).toBe('convert_openai_clip.py ViT-tiny.pt')
    expect(manifest.tokenizer).toBe('clip')
    const raw = await io.readSafetensorsFile(join(DIR, 'clip.safetensors'), { keepF16: true })
    expect(raw.tensors['visual.conv1.weight']!.dtype).toBe('f16')
    // build_model's reading of the shapes gives the manifest's config.
    expect(configFromStateDict(raw.tensors)).toEqual(manifest.config)
    const { tensors: ref } = await io.readSafetensorsFile(join(DIR, 'reference.safetensors'))
    const [img, txt] = tidy(() => [model.encodeImage(d.tensor(ref.images!.data, ref.images!.shape)), model.encodeText(d.tensor(ref.tokens!.data, ref.tokens!.shape))])
    expect(maxRelativeError(await img!.read(), ref.image_features!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
    expect(maxRelativeError(await txt!.read(), ref.text_features!.data as Float32Array, 1e-2)).toBeLessThan(1e-4)
    img!.dispose()
    txt!.dispose()
    model.dispose()
  })
})
