import { describe, expect, it } from 'vitest'
import { bf16BitsToF32, f16BitsToF32, f32ToF16Bits } from '../../src/io/index.js'

/** The value of an f16 bit pattern, computed from the IEEE definition rather than bit tricks. */
function f16Reference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exponent = (h >>> 10) & 0x1f
  const mantissa = h & 0x3ff
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN
  if (exponent === 0) return sign * mantissa * 2 ** -24
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!
}

function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!
}

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0

describe('f16 ↔ f32', () => {
  it('decodes every f16 bit pattern to its IEEE value', () => {
    for (let h = 0; h < 65536; h++) {
      const got = f16BitsToF32(h)
      const want = f16Reference(h)
      if (Number.isNaN(want)) expect(got, `h=${h.toString(16)}`).toBeNaN()
      else if (!Object.is(got, want)) expect.fail(`h=0x${h.toString(16)}: got ${got}, want ${want}`)
    }
  })

  it('round-trips every f16 bit pattern f16 → f32 → f16 (NaN stays NaN with its sign)', () => {
    for (let h = 0; h < 65536; h++) {
      const back = f32ToF16Bits(f16BitsToF32(h))
      if (isF16NaN(h)) {
        expect(isF16NaN(back), `h=0x${h.toString(16)}`).toBe(true)
        expect(back & 0x8000).toBe(h & 0x8000)
      } else if (back !== h) {
        expect.fail(`h=0x${h.toString(16)} came back as 0x${back.toString(16)}`)
      }
    }
  })

  it('rounds to nearest, ties to even, between every pair of adjacent finite f16 values', () => {
    for (let h = 0; h < 0x7bff; h++) {
      for (const sign of [0, 0x8000]) {
        const lo = f16BitsToF32(h | sign)
        const hi = f16BitsToF32((h + 1) | sign)
        const tie = (lo + hi) / 2 // needs 12 significant bits: exact in f32
        expect(Math.fround(tie)).toBe(tie)
        const even = (h & 1) === 0 ? h : h + 1
        if (f32ToF16Bits(tie) !== (even | sign)) expect.fail(`tie ${tie} → 0x${f32ToF16Bits(tie).toString(16)}`)
        // One f32 ulp either side of the tie must go to the nearer neighbour.
        const towardLo = f32FromBits(f32Bits(tie) - 1)
        const towardHi = f32FromBits(f32Bits(tie) + 1)
        if (f32ToF16Bits(towardLo) !== (h | sign)) expect.fail(`just below tie ${tie}`)
        if (f32ToF16Bits(towardHi) !== ((h + 1) | sign)) expect.fail(`just above tie ${tie}`)
      }
    }
  })

  it('handles subnormals and the underflow boundary', () => {
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001) // smallest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000) // exact tie with 0: even wins
    expect(f32ToF16Bits(2 ** -25 * 1.0001)).toBe(0x0001)
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000)
    expect(f32ToF16Bits(-(2 ** -26))).toBe(0x8000) // keeps the sign of zero
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002) // tie between 1 and 2 ulps: even
    expect(f32ToF16Bits(1023 * 2 ** -24)).toBe(0x03ff) // largest subnormal
    expect(f32ToF16Bits(2 ** -14)).toBe(0x0400) // smallest normal
    expect(f32ToF16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400) // rounds up across the boundary
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24)
    expect(f16BitsToF32(0x8200)).toBe(-(2 ** -15))
  })

  it('overflows to infinity at and beyond 65520, keeps 65504', () => {
    expect(f32ToF16Bits(65504)).toBe(0x7bff)
    expect(f32ToF16Bits(65519)).toBe(0x7bff)
    expect(f32ToF16Bits(65520)).toBe(0x7c00) // tie between 65504 and "65536": even is inf
    expect(f32ToF16Bits(1e6)).toBe(0x7c00)
    expect(f32ToF16Bits(-1e30)).toBe(0xfc00)
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00)
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00)
    expect(f16BitsToF32(0x7c00)).toBe(Infinity)
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity)
  })

  it('maps NaN to a quiet NaN pattern even when the payload sits in the low f32 bits', () => {
    expect(isF16NaN(f32ToF16Bits(NaN))).toBe(true)
    expect(isF16NaN(f32ToF16Bits(f32FromBits(0x7f800001)))).toBe(true) // signalling NaN, payload below f16 precision
    expect(f16BitsToF32(0x7e00)).toBeNaN()
  })
})

describe('bf16 → f32', () => {
  it('is the top half of the f32 pattern', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1)
    expect(bf16BitsToF32(0xc040)).toBe(-3)
    expect(bf16BitsToF32(0x8000)).toBe(-0)
    expect(Object.is(bf16BitsToF32(0x8000), -0)).toBe(true)
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity)
    expect(bf16BitsToF32(0xff80)).toBe(-Infinity)
    expect(bf16BitsToF32(0x7fc0)).toBeNaN()
    expect(bf16BitsToF32(0x0001)).toBe(2 ** -133) // subnormal
    for (let h = 0; h < 65536; h += 257) {
      const want = f32FromBits(h << 16)
      if (!Object.is(bf16BitsToF32(h), want) && !Number.isNaN(want)) expect.fail(`bf16 0x${h.toString(16)}`)
    }
  })
})
