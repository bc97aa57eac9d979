import { SafetensorsError } from './errors.js'
import type { SafetensorsHeader, TensorInfo } from './safetensors-header.js'

/** How many names a 'not_found' message lists before summarising the rest. */
const MAX_LISTED_NAMES = 20

/** Name lookup shared by the in-memory and the streamed reader. */
export class SafetensorsIndex {
  readonly metadata: Record<string, string>
  private readonly tensors: Map<string, TensorInfo>

  constructor(header: SafetensorsHeader) {
    this.metadata = header.metadata
    this.tensors = header.tensors
  }

  /** Tensor names in file order. */
  names(): string[] {
    return [...this.tensors.keys()]
  }

  has(name: string): boolean {
    return this.tensors.has(name)
  }

  /** Where `name` lives; throws SafetensorsError('not_found') listing what exists. */
  info(name: string): TensorInfo {
    const found = this.tensors.get(name)
    if (found === undefined) throw notFound(name, this.names())
    return { ...found, shape: [...found.shape] }
  }
}

function notFound(name: string, available: string[]): SafetensorsError {
  const listed = available.slice(0, MAX_LISTED_NAMES).map((n) => JSON.stringify(n.length > 80 ? `${n.slice(0, 77)}...` : n))
  const more = available.length > MAX_LISTED_NAMES ? `, ... and ${available.length - MAX_LISTED_NAMES} more` : ''
  return new SafetensorsError(
    'not_found',
    `tensor ${JSON.stringify(name)} not found; the file has ${available.length}: ${listed.join(', ')}${more}`,
  )
}
