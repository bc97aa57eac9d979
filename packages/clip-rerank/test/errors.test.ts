import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { io } from '@tessera/tensor-core'
import { CLIP, ClipConfigError, ClipInputError, ClipWeightsError, configFromStateDict, loadClip, loadClipStateDict, preset, resolveConfig, trainCaptionTokenizer, VIT_B_32 } from '../src/index.js'
import { device } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny', import.meta.url))

describe('errors a user can act on', () => {
  it('config: names the field; ResNet towers are refused; ViT-B/32 is a preset', () => {
    expect(() => resolveConfig({ ...VIT_B_32, visionLayers: [3, 4, 6, 3] as unknown as number })).toThrow(/ResNet/)
    expect(() => resolveConfig({ ...VIT_B_32, transformerHeads: 7 })).toThrow(ClipConfigError)
    expect(() => resolveConfig({ ...VIT_B_32, visionWidth: 32, visionHeads: undefined })).toThrow(/visionHeads/)
    expect(() => preset('RN50')).toThrow(/ViT-B\/32/)
    expect(preset('ViT-B/32')).toEqual(VIT_B_32)
  })

  it('weights: a missing or mis-shaped name says which and what to check; build_model reads the config off the shapes', async () => {
    const d = await device('cpu')
    const { tensors } = await io.readSafetensorsFile(`${FIXTURE}/clip.safetensors`)
    const config = configFromStateDict(tensors)
    // build_model's heads (width/64) cannot be read off shapes; everything else can.
    expect(config).toMatchObject({ embedDim: 24, imageResolution: 16, visionLayers: 2, visionWidth: 32, visionPatchSize: 4, contextLength: 7, vocabSize: 40, transformerWidth: 48, transformerLayers: 2 })
    const model = new CLIP(d, (await loadClip(d, FIXTURE)).manifest.config)
    const { text_projection: _, ...missing } = tensors
    expect(() => loadClipStateDict(model, missing)).toThrow(ClipWeightsError)
    expect(() => loadClipStateDict(model, missing)).toThrow(/missing: text_projection/)
    // OpenAI's archives keep three scalars beside the weights: the contract's loadStateDict ignores them, nothing else.
    const scalar = (v: number) => ({ dtype: 'i32' as const, shape: [], data: new Int32Array([v]) })
    model.loadStateDict({ ...tensors, input_resolution: scalar(16), context_length: scalar(7), vocab_size: scalar(40) })
    expect(() => model.loadStateDict({ ...tensors, 'visual.extra': scalar(1) })).toThrow(/unexpected: visual.extra/)
    model.dispose()
  })

  it('inputs: wrong image or token shapes and dtypes are named', async () => {
    const d = await device('cpu')
    const { model } = await loadClip(d, FIXTURE)
    expect(() => model.encodeImage(d.tensor(new Float32Array(3 * 8 * 8), [1, 3, 8, 8]))).toThrow(ClipInputError)
    expect(() => model.encodeText(d.tensor(new Float32Array(7), [1, 7]))).toThrow(/i32 \[N, 7\]/)
    model.dispose()
  })

  it('a caption tokenizer ends with <|startoftext|>, <|endoftext|>: the end token is the highest id', async () => {
    const tok = await trainCaptionTokenizer(['a red cat', 'a blue dog', 'red dog', 'blue cat'], { vocabSize: 530 })
    expect(tok.endOfTextId).toBe(tok.vocabSize - 1)
    const [row] = tok.tokenize('a red cat', { contextLength: 8 })
    expect(row![0]).toBe(tok.startOfTextId)
    expect(Math.max(...row!)).toBe(tok.endOfTextId)
    await expect(trainCaptionTokenizer(['x'], { vocabSize: 100 })).rejects.toThrow(/514/)
  })
})
