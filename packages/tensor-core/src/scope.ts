import type { Tensor } from './tensor.js'
import { TesseraError } from './errors.js'

/**
 * `tidy(fn)` disposes every tensor created inside `fn` except what `fn` returns (a tensor, or
 * tensors inside arrays / plain objects) and tensors passed to `keep()`. GPU memory never
 * waits for garbage collection.
 */
const scopes: Set<Tensor>[] = []

export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t)
}

/** Removes a tensor from every open scope: it outlives them and its owner disposes it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t)
  return t
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>()
  scopes.push(scope)
  let result: T
  try {
    result = fn()
  } catch (err) {
    scopes.pop()
    for (const t of scope) t.dispose()
    throw err
  }
  scopes.pop()
  if (result instanceof Promise) {
    throw new TesseraError('tidy() takes a synchronous function: await outside it, or dispose tensors yourself', { code: 'tidy_async' })
  }
  const survivors = new Set<Tensor>()
  collect(result, survivors)
  for (const t of scope) {
    if (survivors.has(t)) track(t)
    else t.dispose()
  }
  return result
}

function collect(value: unknown, out: Set<Tensor>): void {
  if (value === null || typeof value !== 'object') return
  if (isTensor(value)) {
    out.add(value)
    return
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out)
    return
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    for (const v of value instanceof Map ? value.values() : Object.values(value)) collect(v, out)
  }
}

function isTensor(v: object): v is Tensor {
  return (v as { __isTensor?: boolean }).__isTensor === true
}
