// Deterministic test/bench text. Plain JS so that both vitest and `node bench/run.mjs` can use it.

/** Mulberry32, as in src/rng.ts (duplicated so the bench needs no build of test helpers). */
function rng(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const COMMON = (
  'the of and to in is was that for it with as his on be at by had are but from or have an they which one ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over man ' +
  'me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three photo cat dog avocado armchair shaped painting illustration'
).split(' ')
const WORDS_CASED = ["It's", "We're", "They've", "I'm", "You'll", "He'd", "DON'T", "Can't", "WON'T", "O'Neil", "rock'n'roll"]
const ACCENTED = ['café', 'naïve', 'Ångström', 'jalapeño', 'façade', 'über', 'Zürich', 'crème brûlée', 'São Paulo', 'Dvořák', 'Łódź', 'İstanbul', 'ΣΟΦΙΑ', 'straße', 'ﬁnal']
const SCRIPTS = [
  'Привет мир', 'Ελληνικά γράμματα', 'שלום עולם', 'مرحبا بالعالم', 'नमस्ते दुनिया', 'สวัสดีชาวโลก',
  '日本語のテキスト', '中文字符测试', '한국어 텍스트', 'Tiếng Việt có dấu', 'ქართული', 'Հայերեն',
]
const EMOJI = ['🐱', '🐶', '🥑', '👍🏽', '👩‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵', '❤️', '✨', '🧑🏿‍🚀', '😀😃😄', '🫠', '⭐']
const SYMBOLS = ['—', '–', '…', '«', '»', '“', '”', '‘', '’', '©', '®', '™', '€', '£', '¥', '°', '±', '×', '÷', '→', '∑', '√', '∞', '≠', '½', '²']
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '        ', '\t\t', ' \u2003 ']
const SYLLABLES = 'ka ri to mu shi ne po la zen vor qua ix el an dra gon mel thi sor pel ut ba'.split(' ')

function pick(r, list) {
  return list[Math.floor(r() * list.length)]
}

/** Zipf-like pick: low indices much more often. */
function zipf(r, list) {
  return list[Math.floor(list.length * r() ** 3)]
}

function pseudoWord(r) {
  let w = ''
  const n = 1 + Math.floor(r() * 4)
  for (let i = 0; i < n; i++) w += pick(r, SYLLABLES)
  return w
}

function number(r) {
  switch (Math.floor(r() * 6)) {
    case 0:
      return String(Math.floor(r() * 100))
    case 1:
      return String(Math.floor(r() * 1e9))
    case 2:
      return (r() * 1000).toFixed(3)
    case 3:
      return `${1900 + Math.floor(r() * 130)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`
    case 4:
      return `+1 (${100 + Math.floor(r() * 900)}) 555-${1000 + Math.floor(r() * 9000)}`
    default:
      return `${Math.floor(r() * 100)}%`
  }
}

function sentence(r) {
  const n = 3 + Math.floor(r() * 15)
  const words = []
  for (let i = 0; i < n; i++) {
    const x = r()
    if (x < 0.6) words.push(zipf(r, COMMON))
    else if (x < 0.7) words.push(pseudoWord(r))
    else if (x < 0.75) words.push(pick(r, WORDS_CASED))
    else if (x < 0.8) words.push(number(r))
    else if (x < 0.85) words.push(pick(r, ACCENTED))
    else if (x < 0.88) words.push(pick(r, EMOJI))
    else if (x < 0.91) words.push(pick(r, SYMBOLS))
    else if (x < 0.94) words.push(pick(r, SCRIPTS))
    else if (x < 0.97) words.push(zipf(r, COMMON).toUpperCase())
    else words.push(zipf(r, COMMON)[0].toUpperCase() + zipf(r, COMMON).slice(1))
  }
  let s = words.join(r() < 0.9 ? ' ' : pick(r, SPACES))
  s = s[0].toUpperCase() + s.slice(1)
  return s + pick(r, ['.', '.', '.', '!', '?', '...', ';', ':', ' —', '?!'])
}

function codeLine(r) {
  const id = () => zipf(r, COMMON) + (r() < 0.5 ? pick(r, SYLLABLES)[0].toUpperCase() + pick(r, SYLLABLES) : '')
  const indent = ' '.repeat(2 * Math.floor(r() * 4))
  switch (Math.floor(r() * 6)) {
    case 0:
      return `${indent}const ${id()} = ${id()}(${id()}, ${number(r)});`
    case 1:
      return `${indent}if (${id()}.length >= ${Math.floor(r() * 64)} && !${id()}) { return null }`
    case 2:
      return `${indent}for (let i = 0; i < ${id()}.length; i++) ${id()}[i] += 0x${Math.floor(r() * 65536).toString(16)};`
    case 3:
      return `${indent}// TODO(${pseudoWord(r)}): ${sentence(r)}`
    case 4:
      return `${indent}def ${id()}(self, ${id()}=None, **kwargs):  # ${zipf(r, COMMON)}`
    default:
      return `${indent}<div class="${id()}">${zipf(r, COMMON)} &amp; ${zipf(r, COMMON)}&nbsp;&lt;tag&gt;</div>`
  }
}

function oddity(r) {
  switch (Math.floor(r() * 7)) {
    case 0:
      return pick(r, ['a', 'z', 'é', '!', '-', '=', '🐱']).repeat(20 + Math.floor(r() * 300))
    case 1:
      return 'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(1 + Math.floor(r() * 4))
    case 2:
      return 'https://example.com/' + pseudoWord(r) + '?q=' + pseudoWord(r) + '&id=' + number(r) + '#' + pseudoWord(r)
    case 3:
      return ' '.repeat(1 + Math.floor(r() * 40)) + '\n'.repeat(Math.floor(r() * 4))
    case 4:
      return 'e\u0301 a\u0308 n\u0303 ' + 'ﾃｽﾄ ＡＢＣ１２３'
    case 5:
      return `${zipf(r, COMMON)}_${zipf(r, COMMON)}__${pseudoWord(r)}.${pick(r, ['js', 'ts', 'py', 'md'])}`
    default:
      return `"${sentence(r)}" — '${zipf(r, COMMON)}' ('${zipf(r, COMMON)}')`
  }
}

/** About `size` UTF-16 units of varied text (prose, code, numbers, scripts, emoji, whitespace). */
export function generateText(size, seed = 1) {
  const r = rng(seed)
  const parts = []
  let length = 0
  while (length < size) {
    const x = r()
    const piece = x < 0.65 ? sentence(r) : x < 0.85 ? codeLine(r) : oddity(r)
    const sep = r() < 0.75 ? ' ' : pick(r, SPACES)
    parts.push(piece, sep)
    length += piece.length + sep.length
  }
  return parts.join('').slice(0, size)
}

/** Short, self-contained strings for parity tests (one per line of behaviour worth pinning). */
export function sampleStrings(count, seed = 7) {
  const r = rng(seed)
  const out = []
  for (let i = 0; i < count; i++) {
    const x = r()
    out.push(x < 0.5 ? sentence(r) : x < 0.7 ? codeLine(r) : x < 0.9 ? oddity(r) : generateText(50 + Math.floor(r() * 400), i))
  }
  return out
}
