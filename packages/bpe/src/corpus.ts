/**
 * Training input: a string, or a sync/async iterable or web ReadableStream of items.
 * String items are lines (a string may also hold several lines). Byte items are chunks of one
 * UTF-8 file and are re-split into lines across chunk boundaries (e.g. a Node file stream).
 */
export type TextCorpus =
  | string
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>
  | ReadableStream<string | Uint8Array>

async function* items(corpus: TextCorpus): AsyncGenerator<string | Uint8Array> {
  if (typeof corpus === 'string') {
    yield corpus
  } else if (typeof (corpus as ReadableStream).getReader === 'function') {
    const reader = (corpus as ReadableStream<string | Uint8Array>).getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  } else {
    yield* corpus as AsyncIterable<string | Uint8Array>
  }
}

/** Yields the corpus line by line (without line terminators). */
export async function* corpusLines(corpus: TextCorpus): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8')
  let carry = ''
  for await (const item of items(corpus)) {
    if (typeof item === 'string') {
      if (carry !== '') {
        // A byte chunk stream ended without a newline before switching to strings.
        yield carry
        carry = ''
      }
      yield* splitLines(item)
      continue
    }
    const text = carry + decoder.decode(item, { stream: true })
    const lastBreak = text.lastIndexOf('\n')
    if (lastBreak < 0) {
      carry = text
      continue
    }
    carry = text.slice(lastBreak + 1)
    yield* splitLines(text.slice(0, lastBreak))
  }
  carry += decoder.decode()
  if (carry !== '') yield* splitLines(carry)
}

function* splitLines(text: string): Generator<string> {
  if (text.indexOf('\n') < 0) {
    yield text.endsWith('\r') ? text.slice(0, -1) : text
    return
  }
  for (const line of text.split('\n')) yield line.endsWith('\r') ? line.slice(0, -1) : line
}
