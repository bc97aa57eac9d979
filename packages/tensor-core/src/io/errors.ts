import { TesseraError } from '../errors.js'

/** Every way a safetensors file (or a request against one) can be rejected. */
export type SafetensorsErrorCode =
  | 'truncated' // file ends before the header or a tensor's bytes
  | 'header_too_large' // declared header length exceeds the configured limit
  | 'bad_json' // header is not UTF-8 JSON of the expected shape
  | 'bad_offsets' // data_offsets malformed, out of range, or leaving holes/trailing bytes
  | 'overlap' // two tensors claim the same bytes
  | 'unknown_dtype' // dtype not supported (reading) or conversion not supported (writing)
  | 'shape_mismatch' // byte length ≠ product(shape) · itemsize, or data.length ≠ product(shape)
  | 'not_found' // requested tensor name is not in the file
  | 'int_overflow' // a 64-bit integer does not fit the 32-bit type it is loaded into

/**
 * The single error type of the safetensors layer. Callers branch on `code`;
 * the message is for humans.
 */
export class SafetensorsError extends TesseraError {
  override readonly name: string = 'SafetensorsError'
  declare readonly code: SafetensorsErrorCode
  constructor(code: SafetensorsErrorCode, message: string) {
    super(message, { code })
  }
}
