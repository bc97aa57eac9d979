/*
 * Getting bytes and text in Node and browsers alike. Node-only modules are imported lazily so
 * that bundles for the browser never need them unless a file path is actually used.
 */

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string'
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** Decompresses gzip with the web DecompressionStream, or node:zlib where that is missing. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'undefined') {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'))
    return new Uint8Array(await new Response(stream).arrayBuffer())
  }
  const zlib = await import('node:zlib')
  return new Uint8Array(zlib.gunzipSync(bytes))
}

/** UTF-8 text of plain or gzip-compressed bytes. */
export async function bytesToText(bytes: Uint8Array): Promise<string> {
  const plain = isGzip(bytes) ? await gunzip(bytes) : bytes
  return new TextDecoder('utf-8').decode(plain)
}

/** Reads a local file (Node) and returns its text, gunzipping `.gz` content. */
export async function readTextFile(path: string): Promise<string> {
  const fs = await import('node:fs/promises')
  return bytesToText(new Uint8Array(await fs.readFile(path)))
}

/** Fetches a URL and returns its text, gunzipping gzip content that was not decoded in transit. */
export async function fetchText(url: string | URL): Promise<string> {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`GET ${url} failed: ${response.status}`)
  return bytesToText(new Uint8Array(await response.arrayBuffer()))
}
