/**
 * IEEE binary16 (f16) and bfloat16 conversions, done on bit patterns so that
 * signed zeros, subnormals, infinities and NaN payloads survive exactly.
 * (Node 20 has no Math.f16round, and we need bulk speed anyway.)
 */

// Scratch views to move between a JS number and its f32 bit pattern.
const f32Scratch = new Float32Array(1)
const u32Scratch = new Uint32Array(f32Scratch.buffer)

/** f16 bit pattern → f32 bit pattern (exact: every f16 is representable as f32). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exponent = (h >>> 10) & 0x1f
  let mantissa = h & 0x3ff
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0 // ±inf, NaN (payload kept)
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0
  if (mantissa === 0) return sign >>> 0 // ±0
  // Subnormal f16 = mantissa · 2^-24; normalise it into an f32 with an implicit leading 1.
  let f32Exponent = 113 // biased f32 exponent of 2^-14, the f16 subnormal scale
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1
    f32Exponent--
  }
  return (sign | (f32Exponent << 23) | ((mantissa & 0x3ff) << 13)) >>> 0
}

/** f32 bit pattern → f16 bit pattern, rounding to nearest, ties to even; overflow → ±inf. */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000
  const f32Exponent = (bits >>> 23) & 0xff
  const mantissa = bits & 0x7fffff
  if (f32Exponent === 0xff) {
    // Keep NaN quiet and non-zero even when its payload lives only in the low bits.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13)
  }
  const exponent = f32Exponent - 112 // rebias 127 → 15
  if (exponent >= 31) return sign | 0x7c00
  if (exponent >= 1) {
    const truncated = (exponent << 10) | (mantissa >>> 13)
    const rest = mantissa & 0x1fff
    // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
    const roundUp = rest > 0x1000 || (rest === 0x1000 && (truncated & 1) === 1)
    return sign | (truncated + (roundUp ? 1 : 0))
  }
  // Result is subnormal (or zero): f16 mantissa = significand >> shift, then round.
  if (exponent < -10) return sign // below half the smallest subnormal: rounds to ±0
  const significand = mantissa | 0x800000
  const shift = 14 - exponent // 14..24
  const truncated = significand >>> shift
  const rest = significand & ((1 << shift) - 1)
  const half = 1 << (shift - 1)
  const roundUp = rest > half || (rest === half && (truncated & 1) === 1)
  return sign | (truncated + (roundUp ? 1 : 0)) // 0x400 on carry = smallest normal, as it should be
}

/** Decode one f16 bit pattern to a number. */
export function f16BitsToF32(h: number): number {
  u32Scratch[0] = f16BitsToF32Bits(h)
  return f32Scratch[0]!
}

/**
 * Encode a number as f16 bits. The number is first rounded to f32 (the name
 * says what it is for: f32 data), then to f16 with round-to-nearest-even.
 */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x
  return f32BitsToF16Bits(u32Scratch[0]!)
}

/** Decode one bfloat16 bit pattern to a number (bf16 is the top half of an f32). */
export function bf16BitsToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16
  return f32Scratch[0]!
}

let f16ToF32BitsTable: Uint32Array | undefined

/** Bulk f16 → f32 via a lazily built 65536-entry table (256 KiB, built once). */
export function f16ArrayToF32(src: Uint16Array): Float32Array {
  if (f16ToF32BitsTable === undefined) {
    f16ToF32BitsTable = new Uint32Array(65536)
    for (let h = 0; h < 65536; h++) f16ToF32BitsTable[h] = f16BitsToF32Bits(h)
  }
  const table = f16ToF32BitsTable
  const out = new Uint32Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!
  return new Float32Array(out.buffer)
}

/** Bulk f32 → f16 bits, round-to-nearest-even. */
export function f32ArrayToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length)
  const out = new Uint16Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]!)
  return out
}

/** Bulk bf16 → f32: shift each pattern into the top half of an f32. */
export function bf16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Uint32Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16
  return new Float32Array(out.buffer)
}
