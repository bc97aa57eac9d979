/**
 * A tensor living in CPU memory: what the file layer reads and writes.
 * Row-major, `data.length === product(shape)` (1 for a scalar, shape `[]`).
 * The dtype set is what WebGPU can hold (f16 as raw bits, since JS has no
 * Float16Array in Node 20).
 */
export type HostTensor =
  | { dtype: 'f32'; shape: number[]; data: Float32Array }
  | { dtype: 'f16'; shape: number[]; data: Uint16Array } // raw IEEE binary16 bit patterns
  | { dtype: 'i32'; shape: number[]; data: Int32Array }
  | { dtype: 'u32'; shape: number[]; data: Uint32Array }

export type HostDType = HostTensor['dtype']

/** Tensors keyed by name; both forms are accepted wherever a set of tensors is written. */
export type HostTensorCollection = Record<string, HostTensor> | Map<string, HostTensor>

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let size = 1
  for (const dim of shape) size *= dim
  return size
}

export function collectionEntries(tensors: HostTensorCollection): [string, HostTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)
}
