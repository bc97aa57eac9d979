import { getPlugin, type MaskSpec } from '@tessera/plugins'
import type { Device, Tensor } from '@tessera/tensor-core'
import type { ResolvedPriorConfig } from './config.js'
import { sequenceLength } from './config.js'
import { PriorConfigError } from './errors.js'

/** A layer's mask as the plugin gave it ([query][key], 1 = may attend), and whether it is causal. */
export interface LayerMask {
  spec: MaskSpec
  allowed: Uint8Array
  causal: boolean
}

/** Asks each layer's mask plugin (through the registry) for its pattern on this prior's sequence. */
export function layerMasks(config: ResolvedPriorConfig): LayerMask[] {
  const L = sequenceLength(config)
  const cache = new Map<string, LayerMask>()
  return config.masks.map((spec) => {
    const key = JSON.stringify(spec)
    const hit = cache.get(key)
    if (hit) return hit
    const { name, ...options } = typeof spec === 'string' ? { name: spec } : spec
    const T = config.textLength
    const given = getPlugin('attentionMask', name).allowed({ ...options, textLength: T, gridSize: config.gridSize })
    if (!(given instanceof Uint8Array) || given.length !== L * L) {
      throw new PriorConfigError(`mask '${name}' returned ${given?.length} entries, expected ${L}² = ${L * L} (a Uint8Array [query][key])`)
    }
    // The input is shifted by BOS, so position T holds the last text token while the mask
    // contract counts it as image position 0: every image query may see it, as it sees all text.
    const allowed = given.slice()
    for (let q = T; q < L; q++) allowed[q * L + T] = 1
    for (let q = 0; q < L; q++) {
      if (!allowed[q * L + q]) throw new PriorConfigError(`mask '${name}' does not let position ${q} attend to itself`)
    }
    let causal = true
    for (let q = 0; q < L && causal; q++) for (let k = q + 1; k < L; k++) if (allowed[q * L + k]) { causal = false; break }
    const mask = { spec, allowed, causal }
    cache.set(key, mask)
    return mask
  })
}

/** The masks as i32 [L, L] device tensors, one per distinct mask (layers sharing a mask share it). */
export function maskTensors(device: Device, masks: readonly LayerMask[], L: number): Tensor[] {
  const made = new Map<LayerMask, Tensor>()
  return masks.map((m) => {
    let t = made.get(m)
    if (!t) made.set(m, (t = device.tensor(Int32Array.from(m.allowed), [L, L]).keep()))
    return t
  })
}
