import { getPlugin } from '@tessera/plugins'
import { describe, expect, it } from 'vitest'
import { Prior, PriorConfigError, PriorInputError, sequenceLength } from '../src/index.js'
import { devices, randomIds, TINY } from './helpers.js'

describe.each(devices)('Prior on %s', (_name, getDevice) => {
  it('gives image logits [N, H·W, Vi] and text logits [N, T, Vt + 1]', async () => {
    const device = await getDevice()
    const prior = new Prior(device, TINY)
    const text = device.tensor(Int32Array.from([5, 7, 0, 1, 2, 3]), [2, 3])
    const image = device.tensor(randomIds(40, 64, 1), [2, 20])
    const { textLogits, imageLogits } = prior.forward(text, image)
    expect(textLogits.shape).toEqual([2, 3, 51])
    expect(imageLogits.shape).toEqual([2, 20, 64])
    expect(prior.imageLogits(text, image).shape).toEqual([2, 20, 64])
    const values = await imageLogits.read()
    expect(values.every(Number.isFinite)).toBe(true)
    prior.dispose()
  })

  // The masks must be real inside attention: changing image token j changes the input at position
  // T + 1 + j, so the logits of image token i may change only if some path of allowed attention
  // leads from that position to position T + i. With one layer, that is the mask entry itself.
  for (const spec of ['row', 'column', { name: 'conv', kernelSize: 3 }, 'causal'] as const) {
    const name = typeof spec === 'string' ? spec : `conv ${spec.kernelSize}`
    it(`${name}: changing image token j leaves the logits of every image token whose query may not see it bit-identical`, async () => {
      const device = await getDevice()
      const prior = new Prior(device, { ...TINY, masks: [spec] })
      const T = TINY.textLength
      const L = sequenceLength(prior.config)
      const allowed = getPlugin('attentionMask', typeof spec === 'string' ? spec : spec.name).allowed({ textLength: T, gridSize: TINY.gridSize, ...(typeof spec === 'string' ? {} : spec) })
      const text = device.tensor(Int32Array.from([4, 9, 11]), [1, 3])
      const base = randomIds(20, 64, 3)
      const before = await prior.imageLogits(text, device.tensor(base, [1, 20])).read()
      for (const j of [0, 6, 12, 18]) {
        const changed = base.slice()
        changed[j] = (changed[j]! + 17) % 64
        const after = await prior.imageLogits(text, device.tensor(changed, [1, 20])).read()
        for (let i = 0; i < 20; i++) {
          const row = (a: ArrayLike<number>) => Array.from(a).slice(i * 64, (i + 1) * 64)
          const sees = allowed[(T + i) * L + T + 1 + j] === 1
          if (sees) expect(row(after)).not.toEqual(row(before))
          else expect(row(after)).toEqual(row(before))
        }
      }
      prior.dispose()
    })
  }

  it('a text pad is a learned per-position token: changing a non-pad id after a pad changes the logits, pad ids are all equivalent', async () => {
    const device = await getDevice()
    const prior = new Prior(device, TINY)
    const image = device.tensor(randomIds(20, 64, 5), [1, 20])
    const logits = async (ids: number[]) => [...(await prior.imageLogits(device.tensor(Int32Array.from(ids), [1, 3]), image).read())]
    expect(await logits([3, 0, 0])).not.toEqual(await logits([3, 4, 0]))
    prior.dispose()
  })
})

describe('Prior errors', () => {
  it('bad configs and inputs are typed errors that say what is wrong', async () => {
    const device = await devices[0][1]()
    expect(() => new Prior(device, { ...TINY, width: 30, heads: 4 })).toThrow(PriorConfigError)
    expect(() => new Prior(device, { ...TINY, layers: 2, masks: ['row'] })).toThrow(/one entry per layer/)
    expect(() => new Prior(device, { ...TINY, masks: ['diagonal'] })).toThrow(/no attentionMask plugin named 'diagonal'/)
    const prior = new Prior(device, TINY)
    expect(() => prior.imageLogits(device.tensor(new Int32Array(4), [1, 4]), device.tensor(new Int32Array(20), [1, 20]))).toThrow(PriorInputError)
    expect(() => prior.imageLogits(device.tensor(new Int32Array(3), [1, 3]), device.tensor(new Int32Array(19), [1, 19]))).toThrow(/image must be i32 \[1, 20\]/)
    prior.dispose()
  })
})
