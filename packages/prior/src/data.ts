import { PriorInputError } from './errors.js'

/**
 * Captions paired with the image tokens a dVAE gave their images: what the prior trains on.
 * Tokens are encoded once (a dVAE pass is far slower than a prior step) and kept here.
 */
export interface TokenDataset {
  readonly length: number
  readonly captions: readonly string[]
  /** [length, H·W] image tokens, row-major. */
  readonly imageTokens: Int32Array
  /** H·W. */
  readonly imageLength: number
}

/** Checks the parts fit together and returns them as a TokenDataset. */
export function tokenDataset(captions: readonly string[], imageTokens: Int32Array, imageLength: number): TokenDataset {
  if (!Number.isInteger(imageLength) || imageLength < 1) throw new PriorInputError(`imageLength must be a positive integer, got ${imageLength}`)
  if (imageTokens.length !== captions.length * imageLength) {
    throw new PriorInputError(`${captions.length} captions need ${captions.length * imageLength} image tokens (${imageLength} each), got ${imageTokens.length}`)
  }
  return { length: captions.length, captions, imageTokens, imageLength }
}

/** Binary form of a TokenDataset: a JSON header line (captions, sizes) then the tokens as little-endian i32. */
export function packTokenDataset(data: TokenDataset, meta: Record<string, unknown> = {}): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ format: 'tessera-token-dataset', version: 1, imageLength: data.imageLength, captions: data.captions, ...meta }) + '\n')
  const out = new Uint8Array(header.length + data.imageTokens.byteLength)
  out.set(header)
  out.set(new Uint8Array(data.imageTokens.buffer, data.imageTokens.byteOffset, data.imageTokens.byteLength), header.length)
  return out
}

export function unpackTokenDataset(bytes: Uint8Array): { data: TokenDataset; meta: Record<string, unknown> } {
  const nl = bytes.indexOf(10)
  let header: { format?: string; version?: number; imageLength: number; captions: string[] } & Record<string, unknown>
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, nl)))
  } catch {
    throw new PriorInputError('not a token dataset: the first line is not a JSON header')
  }
  if (header.format !== 'tessera-token-dataset' || header.version !== 1) throw new PriorInputError(`not a token dataset (format ${JSON.stringify(header.format)}, version ${header.version})`)
  const body = bytes.slice(nl + 1)
  if (body.byteLength % 4 !== 0) throw new PriorInputError('token dataset is truncated: its token bytes are not whole i32s')
  const { captions, imageLength, format: _f, version: _v, ...meta } = header
  return { data: tokenDataset(captions, new Int32Array(body.buffer, 0, body.byteLength / 4), imageLength), meta }
}
