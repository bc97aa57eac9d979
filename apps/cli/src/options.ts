import { InvalidArgumentError } from 'commander'
import type { MaskSpec, SamplerSpec } from '@tessera/plugins'

export const positiveInt = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.')
  return n
}

export const nonNegative = (value: string): number => {
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer.')
  return n
}

/** A JSON object (--config, --sampling): anything else is refused where it is typed, not deep in a model. */
export function jsonObject<T = Record<string, unknown>>(value: string): T {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message}).`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object, e.g. {"vocabSize":1024}.')
  return parsed as T
}

export const integer = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer.')
  return n
}

export const number = (value: string): number => {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.')
  return n
}

/** --sampler: stage names separated by commas (greedy; temperature,topK …) or the JSON of a SamplerSpec. */
export function samplerSpec(value: string): SamplerSpec {
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value) as SamplerSpec
    } catch {
      throw new InvalidArgumentError('not valid JSON.')
    }
  }
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/** --mask: a schedule or one mask for every layer (row, dalle), a comma list (one per layer), or JSON. */
export function maskSpec(value: string): string | MaskSpec[] {
  if (/^\s*[[{]/.test(value)) {
    try {
      const parsed = JSON.parse(value) as MaskSpec | MaskSpec[]
      return Array.isArray(parsed) ? parsed : [parsed]
    } catch {
      throw new InvalidArgumentError('not valid JSON.')
    }
  }
  return value.includes(',') ? value.split(',').map((s) => s.trim()) : value.trim()
}

/** The generation flags shared by generate and complete, as commander parses them. */
export interface SamplingFlags {
  count: number
  seed: number
  sampler?: SamplerSpec
  topK?: number
  topP?: number
  temperature?: number
  guidance?: number
  mask?: string | MaskSpec[]
  reranker?: string
  truncate?: boolean
  model?: string
  out: string
  json?: boolean
  scale: number
  preview?: boolean
  backend: 'auto' | 'webgpu' | 'cpu'
}
