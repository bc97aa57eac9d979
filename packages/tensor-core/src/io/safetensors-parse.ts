import type { HostTensor } from './host-tensor.js'
import { decodeTensor, type DecodeOptions } from './safetensors-decode.js'
import { DEFAULT_MAX_HEADER_BYTES, HEADER_PREFIX_BYTES, parseHeader, readHeaderLength } from './safetensors-header.js'
import { SafetensorsIndex } from './safetensors-index.js'

export interface ParseOptions extends DecodeOptions {
  /** Reject headers longer than this (default 100 MB, as the reference does). */
  maxHeaderBytes?: number
}

/**
 * A safetensors file held in memory. The header is validated up front; each
 * tensor is decoded when asked for.
 */
export class SafetensorsFile extends SafetensorsIndex {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: ParseOptions = {},
  ) {
    const headerByteLength = readHeaderLength(bytes, bytes.length, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES)
    const dataStart = HEADER_PREFIX_BYTES + headerByteLength
    super(parseHeader(bytes.subarray(HEADER_PREFIX_BYTES, dataStart), bytes.length - dataStart))
  }

  /** Decode tensor `name` (see decodeTensor for the dtype mapping and aliasing). */
  get(name: string): HostTensor {
    const { dtype, shape, byteOffset, byteLength } = this.info(name)
    return decodeTensor(name, dtype, shape, this.bytes.subarray(byteOffset, byteOffset + byteLength), this.options)
  }

  /** Every tensor, decoded, by name: a state dict to load. */
  getAll(): Record<string, HostTensor> {
    return Object.fromEntries(this.names().map((name) => [name, this.get(name)]))
  }
}

/** Validate the header of an in-memory safetensors file; throws SafetensorsError on anything malformed. */
export function parseSafetensors(bytes: Uint8Array, options?: ParseOptions): SafetensorsFile {
  return new SafetensorsFile(bytes, options)
}
