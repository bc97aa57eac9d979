import { SafetensorsError } from './errors.js'
import { collectionEntries, shapeSize, type HostTensor, type HostTensorCollection } from './host-tensor.js'
import { SAFETENSORS_ITEM_SIZE, type SafetensorsDType } from './safetensors-dtype.js'
import { checkStorable, encodeTensor, STORABLE_AS } from './safetensors-encode.js'
import { HEADER_PREFIX_BYTES } from './safetensors-header.js'

export interface SerializeOptions {
  /**
   * Choose the stored dtype per tensor (e.g. `'F16'` for an f32 tensor, `'I64'`
   * for an i32 one, as PyTorch expects for indices). Return undefined for the
   * default: f32 → F32, f16 → F16, i32 → I32, u32 → U32.
   */
  storeAs?: (name: string, tensor: HostTensor) => SafetensorsDType | undefined
}

/** One tensor's slot in the data buffer; `encode` produces its bytes on demand. */
export interface PlannedTensor {
  name: string
  byteLength: number
  encode(): Uint8Array
}

/** A file laid out but not yet materialised, so writers can stream it tensor by tensor. */
export interface SafetensorsPlan {
  /** The 8-byte length prefix plus the space-padded JSON header. */
  header: Uint8Array
  tensors: PlannedTensor[]
  byteLength: number
}

/**
 * Lay out a safetensors file. Order is deterministic: by element size
 * (largest first), then by name — the reference writer's rule. Since the header
 * is padded to a multiple of 8, this keeps every tensor aligned to its element
 * size, so readers can view the data without copying.
 */
export function planSafetensors(
  tensors: HostTensorCollection,
  metadata: Record<string, string> = {},
  options: SerializeOptions = {},
): SafetensorsPlan {
  const entries = collectionEntries(tensors).map(([name, tensor]) => {
    const fileDType = options.storeAs?.(name, tensor) ?? STORABLE_AS[tensor.dtype][0]!
    validateTensor(name, tensor, fileDType)
    const itemSize = SAFETENSORS_ITEM_SIZE[fileDType]
    return { name, tensor, fileDType, itemSize, byteLength: tensor.data.length * itemSize }
  })
  entries.sort((a, b) => b.itemSize - a.itemSize || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

  // Built by hand rather than with an object so a tensor called "__proto__" is just a name.
  const fields: string[] = []
  if (Object.keys(metadata).length > 0) fields.push(`"__metadata__":${JSON.stringify(validateMetadata(metadata))}`)
  let offset = 0
  for (const entry of entries) {
    const description = { dtype: entry.fileDType, shape: entry.tensor.shape, data_offsets: [offset, offset + entry.byteLength] }
    fields.push(`${JSON.stringify(entry.name)}:${JSON.stringify(description)}`)
    offset += entry.byteLength
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`)
  const paddedLength = Math.ceil(json.length / 8) * 8
  const header = new Uint8Array(HEADER_PREFIX_BYTES + paddedLength).fill(0x20) // pad with spaces
  new DataView(header.buffer).setBigUint64(0, BigInt(paddedLength), true)
  header.set(json, HEADER_PREFIX_BYTES)

  return {
    header,
    tensors: entries.map(({ name, tensor, fileDType, byteLength }) => ({
      name,
      byteLength,
      encode: () => encodeTensor(tensor, fileDType),
    })),
    byteLength: header.length + offset,
  }
}

/** Serialise tensors (and string metadata) into one safetensors byte buffer. See planSafetensors for the order. */
export function serializeSafetensors(
  tensors: HostTensorCollection,
  metadata?: Record<string, string>,
  options?: SerializeOptions,
): Uint8Array {
  const plan = planSafetensors(tensors, metadata, options)
  const out = new Uint8Array(plan.byteLength)
  out.set(plan.header, 0)
  let offset = plan.header.length
  for (const tensor of plan.tensors) {
    out.set(tensor.encode(), offset)
    offset += tensor.byteLength
  }
  return out
}

function validateTensor(name: string, tensor: HostTensor, fileDType: SafetensorsDType): void {
  if (name === '__metadata__') throw new SafetensorsError('bad_json', `'__metadata__' is reserved and cannot name a tensor`)
  if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError('shape_mismatch', `tensor '${name}' shape [${tensor.shape.join(', ')}] is not a list of non-negative integers`)
  }
  if (shapeSize(tensor.shape) !== tensor.data.length) {
    throw new SafetensorsError(
      'shape_mismatch',
      `tensor '${name}' has ${tensor.data.length} elements but shape [${tensor.shape.join(', ')}] needs ${shapeSize(tensor.shape)}`,
    )
  }
  checkStorable(name, tensor, fileDType)
}

function validateMetadata(metadata: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new SafetensorsError('bad_json', `metadata '${key}' must be a string, got ${typeof value}`)
  }
  return metadata
}
