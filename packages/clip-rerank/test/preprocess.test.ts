import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { io } from '@tessera/tensor-core'
import { CLIP_STD, preprocess } from '../src/index.js'

// fixtures/make_preprocess_fixture.py: OpenAI's _transform with PIL (bicubic resize of the
// shorter side, centre crop, mean/std) on random images of odd sizes.
const FIXTURE = fileURLToPath(new URL('../fixtures/preprocess.safetensors', import.meta.url))
const CASES = [[37, 29, 16], [64, 64, 32], [50, 81, 24], [31, 64, 16]] as const

describe("OpenAI's preprocessing", () => {
  it.each(CASES.map((c, k) => [k, ...c] as const))('case %i: %i×%i → %i matches PIL within its 8-bit rounding', async (k, w, h, r) => {
    const { tensors } = await io.readSafetensorsFile(FIXTURE)
    const input = tensors[`input.${k}`]!.data as Float32Array
    const expected = tensors[`expected.${k}`]!.data as Float32Array
    const got = preprocess({ channels: 3, height: h, width: w, data: input }, r)
    expect(got.length).toBe(3 * r * r)
    // PIL resamples in fixed point and stores bytes: allow 1.5/255 of a pixel, in normalised units.
    let worst = 0
    let sum = 0
    for (let i = 0; i < got.length; i++) {
      const c = Math.floor(i / (r * r))
      const e = Math.abs(got[i]! - expected[i]!) * CLIP_STD[c]! * 255
      worst = Math.max(worst, e)
      sum += e
    }
    console.log(`case ${k}: worst ${worst.toFixed(3)}/255, mean ${(sum / got.length).toFixed(3)}/255`)
    expect(worst).toBeLessThan(1.5)
    expect(sum / got.length).toBeLessThan(0.6)
  })
})
