/*
 * Getting bytes and text in Node and browsers alike. Node-only modules are imported lazily so
 * that bundles for the browser never need them unless a file path is actually used. Failures
 * are typed and name the file: VocabularyNotFoundError (no such file, HTTP error),
 * BpeFormatError (gzip that does not decompress, a `.gz` file that is not gzip).
 */
import { BpeFormatError, VocabularyNotFoundError } from './errors.js'

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string'
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/**
 * Decompresses gzip with the web DecompressionStream, or node:zlib where that is missing; a
 * stream that is cut short or corrupt is a BpeFormatError naming `what`.
 */
export async function gunzip(bytes: Uint8Array, what = 'the gzip data'): Promise<Uint8Array> {
  try {
    if (typeof DecompressionStream !== 'undefined') {
      const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'))
      return new Uint8Array(await new Response(stream).arrayBuffer())
    }
    const zlib = await import('node:zlib')
    return new Uint8Array(zlib.gunzipSync(bytes))
  } catch (error) {
    throw new BpeFormatError(`${what} is gzip that does not decompress (truncated or corrupt): ${(error as Error).message}`, { cause: error })
  }
}

/** UTF-8 text of plain or gzip-compressed bytes. */
export async function bytesToText(bytes: Uint8Array, what?: string): Promise<string> {
  const plain = isGzip(bytes) ? await gunzip(bytes, what) : bytes
  return new TextDecoder('utf-8').decode(plain)
}

/** Reads a local file (Node) and returns its text, gunzipping gzip content; a `.gz` name must hold gzip. */
export async function readTextFile(path: string): Promise<string> {
  const fs = await import('node:fs/promises')
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await fs.readFile(path))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VocabularyNotFoundError(`no vocabulary file at ${path}`, { cause: error })
    throw new VocabularyNotFoundError(`cannot read the vocabulary file ${path}: ${(error as Error).message}`, { cause: error })
  }
  if (/\.gz$/i.test(path) && !isGzip(bytes)) throw new BpeFormatError(`${path} is named .gz but is not gzip (it starts with ${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 16)))})`)
  return bytesToText(bytes, path)
}

/** Fetches a URL and returns its text, gunzipping gzip content that was not decoded in transit. */
export async function fetchText(url: string | URL): Promise<string> {
  let response: Response
  try {
    response = await fetch(url)
  } catch (error) {
    throw new VocabularyNotFoundError(`GET ${url} failed: ${(error as Error).message}`, { cause: error })
  }
  if (!response.ok) throw new VocabularyNotFoundError(`GET ${url} failed: HTTP ${response.status}`)
  return bytesToText(new Uint8Array(await response.arrayBuffer()), String(url))
}
