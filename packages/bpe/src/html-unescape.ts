import { INVALID_CHARREFS, INVALID_CODEPOINTS, PACKED_NAMED_ENTITIES } from './html-entities.js'

/*
 * A port of Python's html.unescape (CPython Lib/html/__init__.py), which CLIP's basic_clean
 * applies twice. Same reference syntax, same longest-prefix rule for legacy names without ';',
 * same fix-ups for invalid numeric references.
 */

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu

let named: Map<string, string> | null = null
function namedEntities(): Map<string, string> {
  if (named === null) {
    named = new Map()
    for (const record of PACKED_NAMED_ENTITIES.split('\n')) {
      if (record === '') continue
      const tab = record.indexOf('\t')
      named.set(record.slice(0, tab), record.slice(tab + 1))
    }
  }
  return named
}

const invalidCodepoints = new Set(INVALID_CODEPOINTS)

function numericReference(digits: string, radix: 10 | 16): string {
  digits = digits.replace(/^0+/, '')
  // Anything this long is above U+10FFFF; parseInt would lose precision but the outcome is fixed.
  const num = digits.length > 8 ? Infinity : digits === '' ? 0 : parseInt(digits, radix)
  const fixed = INVALID_CHARREFS[num]
  if (fixed !== undefined) return fixed
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd'
  if (invalidCodepoints.has(num)) return ''
  return String.fromCodePoint(num)
}

function replaceReference(_match: string, ref: string): string {
  if (ref[0] === '#') {
    const body = ref.endsWith(';') ? ref.slice(0, -1) : ref
    return body[1] === 'x' || body[1] === 'X' ? numericReference(body.slice(2), 16) : numericReference(body.slice(1), 10)
  }
  const table = namedEntities()
  const whole = table.get(ref)
  if (whole !== undefined) return whole
  // Longest known prefix (only legacy names like "amp" are valid without ';').
  for (let x = ref.length - 1; x > 1; x--) {
    const value = table.get(ref.slice(0, x))
    if (value !== undefined) return value + ref.slice(x)
  }
  return '&' + ref
}

/** Python's `html.unescape`: named and numeric character references to characters. */
export function htmlUnescape(text: string): string {
  if (text.indexOf('&') < 0) return text
  return text.replace(CHARREF, replaceReference)
}
