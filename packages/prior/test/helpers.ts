import { Device } from '@tessera/tensor-core'
import type { PriorConfig } from '../src/index.js'

let cpu: Promise<Device> | null = null
let gpu: Promise<Device> | null = null
export const cpuDevice = () => (cpu ??= Device.create({ backend: 'cpu' }))
export const gpuDevice = () => (gpu ??= Device.create({ backend: 'webgpu' }))
export const devices = [
  ['cpu', cpuDevice],
  ['webgpu', gpuDevice],
] as const

/** The DESIGN.md contract's example sizes: 3 text tokens, a 4 × 5 grid. */
export const TINY: PriorConfig = { textVocabSize: 50, imageVocabSize: 64, textLength: 3, gridSize: [4, 5], width: 32, heads: 2, layers: 1, masks: ['row'], seed: 0 }

/** Deterministic pseudo-random ints in [0, n). */
export function randomIds(count: number, n: number, seed: number): Int32Array {
  let s = seed >>> 0
  return Int32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % n
  })
}
