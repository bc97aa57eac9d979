import { SafetensorsError } from './errors.js'
import { SAFETENSORS_ITEM_SIZE, isSafetensorsDType, type SafetensorsDType } from './safetensors-dtype.js'

/** Where one tensor lives in the file. */
export interface TensorInfo {
  /** Dtype as stored in the file. */
  dtype: SafetensorsDType
  shape: number[]
  /** Absolute position in the file (not relative to the data buffer, unlike `data_offsets`). */
  byteOffset: number
  byteLength: number
}

export interface SafetensorsHeader {
  metadata: Record<string, string>
  /** In file order (ascending offset). */
  tensors: Map<string, TensorInfo>
}

/** Same cap as the reference implementation: a 100 MB header is already absurd. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000

/** Size of the little-endian u64 header-length prefix. */
export const HEADER_PREFIX_BYTES = 8

/**
 * Read the u64 header length from the first 8 bytes and check it against the
 * limit and the file size. Returns the header's byte length.
 */
export function readHeaderLength(prefix: Uint8Array, fileByteLength: number, maxHeaderBytes: number): number {
  if (fileByteLength < HEADER_PREFIX_BYTES || prefix.length < HEADER_PREFIX_BYTES) {
    throw new SafetensorsError('truncated', `file is ${fileByteLength} bytes, shorter than the 8-byte header length`)
  }
  const declared = new DataView(prefix.buffer, prefix.byteOffset, HEADER_PREFIX_BYTES).getBigUint64(0, true)
  if (declared > BigInt(maxHeaderBytes)) {
    throw new SafetensorsError('header_too_large', `header length ${declared} exceeds the limit of ${maxHeaderBytes} bytes`)
  }
  const headerByteLength = Number(declared)
  if (HEADER_PREFIX_BYTES + headerByteLength > fileByteLength) {
    throw new SafetensorsError(
      'truncated',
      `header length ${headerByteLength} runs past the end of the ${fileByteLength}-byte file`,
    )
  }
  return headerByteLength
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parse and validate the JSON header. `dataByteLength` is the size of the byte
 * buffer that follows the header; tensors must tile it exactly (no overlaps,
 * no holes, no trailing bytes), as the reference implementation requires.
 */
export function parseHeader(json: Uint8Array, dataByteLength: number): SafetensorsHeader {
  const dataStart = HEADER_PREFIX_BYTES + json.length
  let parsed: unknown
  try {
    parsed = JSON.parse(utf8.decode(json))
  } catch (error) {
    throw new SafetensorsError('bad_json', `header is not valid UTF-8 JSON: ${(error as Error).message}`)
  }
  if (!isPlainObject(parsed)) throw new SafetensorsError('bad_json', 'header must be a JSON object')

  let metadata: Record<string, string> = {}
  const entries: { name: string; info: TensorInfo; begin: number; end: number }[] = []
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value)
      continue
    }
    const { dtype, shape, begin, end } = parseEntry(name, value)
    entries.push({ name, begin, end, info: { dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin } })
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end)
  let cursor = 0
  for (const { name, info, begin, end } of entries) {
    if (end > dataByteLength) {
      throw new SafetensorsError(
        'truncated',
        `tensor '${name}' ends at byte ${end} but the data buffer has only ${dataByteLength} bytes`,
      )
    }
    if (begin < cursor) throw new SafetensorsError('overlap', `tensor '${name}' starts at ${begin}, inside the previous tensor (ends at ${cursor})`)
    if (begin > cursor) throw new SafetensorsError('bad_offsets', `hole in the data buffer: bytes ${cursor}..${begin} belong to no tensor`)
    const expected = shapeByteLength(info.shape, SAFETENSORS_ITEM_SIZE[info.dtype])
    if (expected !== info.byteLength) {
      throw new SafetensorsError(
        'shape_mismatch',
        `tensor '${name}' (${info.dtype} [${info.shape.join(', ')}]) needs ${expected} bytes but data_offsets span ${info.byteLength}`,
      )
    }
    cursor = end
  }
  if (cursor !== dataByteLength) {
    throw new SafetensorsError('bad_offsets', `${dataByteLength - cursor} trailing bytes after the last tensor`)
  }
  return { metadata, tensors: new Map(entries.map((e) => [e.name, e.info])) }
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw new SafetensorsError('bad_json', '__metadata__ must be an object')
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new SafetensorsError('bad_json', `__metadata__['${key}'] must be a string`)
  }
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(value as Record<string, string>))
}

function parseEntry(name: string, value: unknown): { dtype: SafetensorsDType; shape: number[]; begin: number; end: number } {
  if (!isPlainObject(value)) throw new SafetensorsError('bad_json', `entry '${name}' must be an object`)
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>
  if (typeof dtype !== 'string') throw new SafetensorsError('bad_json', `tensor '${name}' has no string dtype`)
  if (!isSafetensorsDType(dtype)) throw new SafetensorsError('unknown_dtype', `tensor '${name}' has unsupported dtype '${dtype}'`)
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError('bad_json', `tensor '${name}' shape must be an array of non-negative integers`)
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsError('bad_offsets', `tensor '${name}' data_offsets must be [begin, end] non-negative integers`)
  }
  const [begin, end] = offsets as [number, number]
  if (end < begin) throw new SafetensorsError('bad_offsets', `tensor '${name}' data_offsets [${begin}, ${end}] end before they begin`)
  return { dtype, shape: shape as number[], begin, end }
}

/** product(shape) · itemSize, or Infinity when it would exceed 2^53 (can never match a real length). */
function shapeByteLength(shape: number[], itemSize: number): number {
  let bytes = itemSize
  for (const dim of shape) bytes *= dim
  return Number.isSafeInteger(bytes) ? bytes : Infinity
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
