import { ShapeError } from './errors.js'

export type Shape = readonly number[]

export function sizeOf(shape: Shape): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

export function checkShape(shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(', ')}]: dims must be non-negative integers`)
  }
}

/** Row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]!
  }
  return strides
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length)
  const out = new Array<number>(rank)
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1
    const db = b[b.length - rank + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (dim ${i}: ${da} vs ${db})`)
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/**
 * Strides to read `shape` as if it had been broadcast to `target` (same rank after left
 * padding): broadcast dims get stride 0.
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const strides = stridesOf(shape)
  const out = new Array<number>(target.length).fill(0)
  const offset = target.length - shape.length
  for (let i = 0; i < shape.length; i++) out[offset + i] = shape[i] === 1 ? 0 : strides[i]!
  return out
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`axis ${axis} is out of range for rank ${rank}`)
  return a
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`
}

/** Merges adjacent dims that every operand strides through contiguously; drops size-1 dims. */
export function coalesce(shape: Shape, strides: number[][]): { dims: number[]; strides: number[][] } {
  const dims: number[] = []
  const outStrides: number[][] = strides.map(() => [])
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue
    const last = dims.length - 1
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!)
    if (mergeable) {
      dims[last]! *= shape[d]!
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!))
    } else {
      dims.push(shape[d]!)
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!))
    }
  }
  if (dims.length === 0) return { dims: [1], strides: strides.map(() => [1]) }
  return { dims, strides: outStrides }
}
