import { describe, expect, it } from 'vitest'
import { Device, nn, ops, tidy } from '@tessera/tensor-core'
import { DiscreteVAE, encodeDataset, peakFloatsPerImage } from '../src/index.js'

process.env.XDG_RUNTIME_DIR ??= '/tmp'

describe('batches larger than the device can bind', () => {
  it('run in slices under Device.maxTensorBytes, with the results of one pass', async () => {
    const d = await Device.create({ backend: 'cpu' })
    const config = { groupCount: 3, nHid: 8, nBlkPerGroup: 1, vocabSize: 16, nInit: 8, imageSize: 16 }
    const model = new DiscreteVAE(d, config, { seed: 5 })
    const rng = new nn.HostRandom(9)
    const images = d.tensor(Float32Array.from({ length: 5 * 3 * 16 * 16 }, () => rng.next()), [5, 3, 16, 16])
    const whole = tidy(() => {
      const logits = model.logits(images)
      return { logits, decoded: model.decode(ops.argmax(logits, 1)) }
    })
    const calls = { encoder: 0, decoder: 0 }
    const encoderForward = model.encoder.forward.bind(model.encoder)
    const decoderForward = model.decoder.forwardTokens.bind(model.decoder)
    model.encoder.forward = (x) => (calls.encoder++, encoderForward(x))
    model.decoder.forwardTokens = (t) => (calls.decoder++, decoderForward(t))
    // Room for two images' largest tensor on the decoder side and for less than one on the encoder's,
    // which then runs one image at a time.
    const backend = d.backend as { maxTensorBytes: number }
    backend.maxTensorBytes = 2 * 1.25 * 4 * peakFloatsPerImage(model.config, 'decoder')
    expect(backend.maxTensorBytes).toBeLessThan(2 * 1.25 * 4 * peakFloatsPerImage(model.config, 'encoder'))
    const logits = model.logits(images)
    const decoded = model.decode(ops.argmax(logits, 1))
    expect(calls).toEqual({ encoder: 5, decoder: 3 })
    expect(logits.shape).toEqual(whole.logits.shape)
    expect(Array.from(await logits.read())).toEqual(Array.from(await whole.logits.read()))
    expect(Array.from(await decoded.read())).toEqual(Array.from(await whole.decoded.read()))
    d.destroy()
  })
})

describe('encodeDataset', () => {
  it('encodes a dataset batch by batch into the tokens of one pass, reporting progress', async () => {
    const d = await Device.create({ backend: 'cpu' })
    const model = new DiscreteVAE(d, { groupCount: 3, nHid: 8, nBlkPerGroup: 1, vocabSize: 16, nInit: 8, imageSize: 16 }, { seed: 5 })
    const rng = new nn.HostRandom(3)
    const images = Float32Array.from({ length: 5 * 3 * 16 * 16 }, () => rng.next())
    const whole = model.encode(d.tensor(images, [5, 3, 16, 16]))
    const progress: number[] = []
    const tokens = await encodeDataset(model, { images, imageSize: 16, length: 5 }, { batchSize: 2, onProgress: (done) => progress.push(done) })
    expect(Array.from(tokens)).toEqual(Array.from(await whole.read()))
    expect(progress).toEqual([2, 4, 5])
    await expect(encodeDataset(model, { images, imageSize: 32, length: 1 })).rejects.toThrow(/images are 32 px, the dVAE encodes 16 px/)
    d.destroy()
  })
})
