import { describe, expect, it } from 'vitest'
import { Device, measurePeakBytes, nn, ops, tidy } from '@tessera/tensor-core'
import { DiscreteVAE, encodeDataset } from '../src/index.js'
import { mapPixels } from '../src/pixels.js'

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
    // One image's largest buffer on each side, as inSlices measured it for the passes above (once
    // per module and image shape: the passes below reuse it).
    const first = [{ start: 0, end: 1 }]
    const encoderPeak = measurePeakBytes(d, () => model.encoder.forward(mapPixels(ops.slice(images, first))))
    const decoderPeak = measurePeakBytes(d, () => model.decoder.forwardTokens(ops.slice(ops.argmax(whole.logits, 1), first)))
    const calls = { encoder: 0, decoder: 0 }
    const encoderForward = model.encoder.forward.bind(model.encoder)
    const decoderForward = model.decoder.forwardTokens.bind(model.decoder)
    model.encoder.forward = (x) => (calls.encoder++, encoderForward(x))
    model.decoder.forwardTokens = (t) => (calls.decoder++, decoderForward(t))
    // Room for two images on the larger side: it runs in slices of 2 (3 passes for 5 images), the
    // other side in slices of at least 2.
    const backend = d.backend as { maxTensorBytes: number }
    backend.maxTensorBytes = 2 * Math.max(encoderPeak, decoderPeak)
    const logits = model.logits(images)
    const decoded = model.decode(ops.argmax(logits, 1))
    const passes = (peak: number) => Math.ceil(5 / Math.floor(backend.maxTensorBytes / peak))
    expect(calls).toEqual({ encoder: passes(encoderPeak), decoder: passes(decoderPeak) })
    expect(Math.max(passes(encoderPeak), passes(decoderPeak))).toBe(3)
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
