/**
 * GPT-2's `bytes_to_unicode`: every byte gets a printable, non-space character so that
 * byte strings can be stored in text vocab files. Printable Latin-1 bytes map to themselves;
 * the remaining 68 bytes map to U+0100.. in byte order.
 */

function buildByteOrder(): number[] {
  const bytes: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b) // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b) // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b) // '®'..'ÿ'
  const printable = new Set(bytes)
  for (let b = 0; b < 256; b++) if (!printable.has(b)) bytes.push(b)
  return bytes
}

/**
 * Bytes in the order Python's `bytes_to_unicode()` dict yields them (printable first, then the
 * rest). Both GPT-2's encoder.json and CLIP's vocabulary assign ids 0..255 in this order.
 */
export const BYTE_ORDER: readonly number[] = buildByteOrder()

/** byte -> its printable stand-in character. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256)
  let extra = 0
  for (const b of BYTE_ORDER) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
    out[b] = String.fromCharCode(printable ? b : 256 + extra++)
  }
  return out
})()

/** stand-in character code -> byte, or -1 for characters outside the alphabet. */
const CHAR_CODE_TO_BYTE: Int16Array = (() => {
  const out = new Int16Array(512).fill(-1)
  for (let b = 0; b < 256; b++) out[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b
  return out
})()

/** Byte-level string (vocab form) -> raw bytes. Returns null if a character is not a stand-in. */
export function unicodeToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length)
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i)
    const b = c < 512 ? CHAR_CODE_TO_BYTE[c]! : -1
    if (b < 0) return null
    out[i] = b
  }
  return out
}

/** Raw bytes -> byte-level string (vocab form). */
export function bytesToUnicode(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]
  return s
}

const encoder = new TextEncoder()
let scratch = new Uint8Array(1024)

/**
 * UTF-8 bytes of `text`, written into a shared scratch buffer (valid until the next call).
 * Avoids allocating a Uint8Array per pre-token in the encode loop.
 */
export function utf8Scratch(text: string): Uint8Array {
  const n = text.length
  // Worst case 3 bytes per UTF-16 unit.
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2))
  let ascii = true
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) {
      ascii = false
      break
    }
    scratch[i] = c
  }
  if (ascii) return scratch.subarray(0, n)
  const { written } = encoder.encodeInto(text, scratch)
  return scratch.subarray(0, written)
}

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text)
}
