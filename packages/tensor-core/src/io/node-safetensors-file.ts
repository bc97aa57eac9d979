/**
 * Safetensors files on disk (Node only; `node:fs` is imported lazily).
 * Reading streams: only the header is read up front, then each tensor's bytes
 * on request, so a multi-GB checkpoint never needs to fit in memory twice.
 */
import { SafetensorsError } from './errors.js'
import type { HostTensor, HostTensorCollection } from './host-tensor.js'
import { writeFileAtomic } from './node-atomic-write.js'
import { decodeTensor } from './safetensors-decode.js'
import { DEFAULT_MAX_HEADER_BYTES, HEADER_PREFIX_BYTES, parseHeader, readHeaderLength } from './safetensors-header.js'
import { SafetensorsIndex } from './safetensors-index.js'
import type { ParseOptions } from './safetensors-parse.js'
import { planSafetensors, type SafetensorsPlan, type SerializeOptions } from './safetensors-serialize.js'

/**
 * What the reader needs of an open file (node:fs/promises' FileHandle has it). Spelled out so
 * the package's types do not need Node's: a browser project type-checks them without @types/node.
 */
export interface ReadableFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>
  stat(): Promise<{ size: number }>
  close(): Promise<void>
}

/** An open safetensors file: header in memory, tensor bytes read on demand. */
export class SafetensorsFileReader extends SafetensorsIndex {
  constructor(
    private readonly handle: ReadableFile,
    header: ConstructorParameters<typeof SafetensorsIndex>[0],
    private readonly options: ParseOptions,
  ) {
    super(header)
  }

  /** Read and decode just tensor `name` (see decodeTensor for the dtype mapping). */
  async get(name: string): Promise<HostTensor> {
    const { dtype, shape } = this.info(name)
    return decodeTensor(name, dtype, shape, await this.readBytes(name), this.options)
  }

  /** Tensor `name`'s bytes as stored in the file (little-endian, its file dtype), undecoded. */
  async readBytes(name: string): Promise<Uint8Array> {
    const { byteOffset, byteLength } = this.info(name)
    return readExactly(this.handle, byteOffset, byteLength)
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

/** Open `path`, validate its header, and return a reader. Call `close()` when done. */
export async function openSafetensors(path: string, options: ParseOptions = {}): Promise<SafetensorsFileReader> {
  const fs = await import('node:fs/promises')
  const handle = await fs.open(path, 'r')
  try {
    const { size } = await handle.stat()
    const prefix = await readExactly(handle, 0, Math.min(HEADER_PREFIX_BYTES, size))
    const headerByteLength = readHeaderLength(prefix, size, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES)
    const json = await readExactly(handle, HEADER_PREFIX_BYTES, headerByteLength)
    const header = parseHeader(json, size - HEADER_PREFIX_BYTES - headerByteLength)
    return new SafetensorsFileReader(handle, header, options)
  } catch (error) {
    await handle.close()
    throw error
  }
}

/** Read every tensor of `path` (one at a time from disk) plus its metadata. */
export async function readSafetensorsFile(
  path: string,
  options?: ParseOptions,
): Promise<{ metadata: Record<string, string>; tensors: Record<string, HostTensor> }> {
  const file = await openSafetensors(path, options)
  try {
    const tensors: [string, HostTensor][] = []
    for (const name of file.names()) tensors.push([name, await file.get(name)])
    return { metadata: file.metadata, tensors: Object.fromEntries(tensors) }
  } finally {
    await file.close()
  }
}

/**
 * Write tensors to `path` atomically (see writeFileAtomic), encoding and
 * writing one tensor at a time instead of building the whole file in memory.
 * Invalid tensors are rejected before any file is created.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: HostTensorCollection,
  metadata?: Record<string, string>,
  options?: SerializeOptions,
): Promise<void> {
  await writeFileAtomic(path, planChunks(planSafetensors(tensors, metadata, options)))
}

/** The planned file as a lazy sequence: header, then each tensor as it is encoded. */
export function* planChunks(plan: SafetensorsPlan): Generator<Uint8Array> {
  yield plan.header
  for (const tensor of plan.tensors) yield tensor.encode()
}

/** Positioned read that loops over short reads; a file that shrank underneath us is 'truncated'. */
async function readExactly(handle: ReadableFile, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) throw new SafetensorsError('truncated', `file ended ${length - filled} bytes early at offset ${position + filled}`)
    filled += bytesRead
  }
  return buffer
}
