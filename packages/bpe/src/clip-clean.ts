import { htmlUnescape } from './html-unescape.js'
import { PY_WHITESPACE } from './pretokenize.js'

const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'gu')
const EDGE_WHITESPACE = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu')

/** Python's `str.strip()` (JS `trim` has a different whitespace set). */
export function pyStrip(text: string): string {
  return text.replace(EDGE_WHITESPACE, '')
}

/**
 * openai/CLIP's text cleaning: basic_clean (ftfy.fix_text, then html.unescape twice, strip),
 * whitespace_clean (runs of whitespace -> one space, strip), then lower-casing.
 * ftfy is not reproduced: it repairs mojibake, which well-formed text does not contain.
 */
export function clipCleanText(text: string): string {
  text = pyStrip(htmlUnescape(htmlUnescape(text)))
  text = pyStrip(text.replace(WHITESPACE_RUN, ' '))
  return text.toLowerCase()
}
