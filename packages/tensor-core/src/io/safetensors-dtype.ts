/**
 * The safetensors dtypes this layer understands, with their element sizes.
 * Dtypes not listed (F8_*, F4, ...) are rejected as 'unknown_dtype' when the
 * header is parsed, because we can neither validate their sizes nor decode them.
 */
export const SAFETENSORS_ITEM_SIZE = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const

export type SafetensorsDType = keyof typeof SAFETENSORS_ITEM_SIZE

export function isSafetensorsDType(value: string): value is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_ITEM_SIZE, value)
}
