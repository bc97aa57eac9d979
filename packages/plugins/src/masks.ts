import { CONTRACT_VERSIONS, type AttentionMaskPlugin, type MaskGeometry } from './contracts.js'
import { PluginError } from './errors.js'

/** Whether image position i may see image position j ≤ i, on a grid `cols` wide. */
type ImagePattern = (i: number, j: number, cols: number) => boolean

function checkGeometry(name: string, g: MaskGeometry): { T: number; rows: number; cols: number } {
  const { textLength: T, gridSize } = g
  const [rows, cols] = gridSize ?? []
  if (!Number.isInteger(T) || T < 0) throw new PluginError(`mask '${name}': textLength must be a non-negative integer, got ${T}`)
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows! < 1 || cols! < 1) {
    throw new PluginError(`mask '${name}': gridSize must be [rows, columns] of positive integers, got ${JSON.stringify(gridSize)}`)
  }
  return { T, rows: rows!, cols: cols! }
}

/**
 * DALL·E's layout: text is causal; every image query sees all text; among image positions a
 * query sees the earlier-or-equal ones its pattern allows (raster order, never a later one).
 */
function sequenceMask(name: string, g: MaskGeometry, pattern: ImagePattern): Uint8Array {
  const { T, rows, cols } = checkGeometry(name, g)
  const L = T + rows * cols
  const m = new Uint8Array(L * L)
  for (let q = 0; q < L; q++) {
    const row = q * L
    if (q < T) {
      m.fill(1, row, row + q + 1)
      continue
    }
    m.fill(1, row, row + T)
    const i = q - T
    for (let j = 0; j <= i; j++) if (pattern(i, j, cols)) m[row + T + j] = 1
  }
  return m
}

function maskPlugin(name: string, description: string, allowed: AttentionMaskPlugin['allowed']): AttentionMaskPlugin {
  return { kind: 'attentionMask', name, contract: CONTRACT_VERSIONS.attentionMask, description, allowed }
}

function kernelSizeOf(options: Record<string, unknown>): number {
  const k = options.kernelSize ?? 11
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k % 2 === 0) throw new PluginError(`mask 'conv': kernelSize must be a positive odd integer, got ${String(k)}`)
  return k
}

export const BUILTIN_MASKS: readonly AttentionMaskPlugin[] = [
  maskPlugin('row', 'each image token sees the previous W image positions and itself (one row back)', (o) =>
    sequenceMask('row', o, (i, j, cols) => i - j <= cols),
  ),
  maskPlugin('column', 'each image token sees the earlier image positions of its own column', (o) =>
    sequenceMask('column', o, (i, j, cols) => (i - j) % cols === 0),
  ),
  maskPlugin('conv', 'each image token sees the earlier image positions of the k×k window centred on it (kernelSize, default 11; no wrap-around)', (o) => {
    const r = (kernelSizeOf(o) - 1) / 2
    return sequenceMask('conv', o, (i, j, cols) => Math.abs(Math.floor(i / cols) - Math.floor(j / cols)) <= r && Math.abs((i % cols) - (j % cols)) <= r)
  }),
  maskPlugin('causal', 'every position sees all earlier positions and itself', (o) => sequenceMask('causal', o, () => true)),
  maskPlugin('full', 'every position sees every position (encoders only: it lets a prior see the future)', (o) => {
    const { T, rows, cols } = checkGeometry('full', o)
    return new Uint8Array((T + rows * cols) ** 2).fill(1)
  }),
]

/** A layer's mask: a registered name, or a name with its options. */
export type MaskSpec = string | ({ name: string } & Record<string, unknown>)

/**
 * DALL·E's per-layer schedule: row, column, row, row repeating, with a convolutional mask
 * (kernelSize 11, or `convKernelSize`) in the last layer.
 */
export function dalleMaskSchedule(layers: number, convKernelSize = 11): MaskSpec[] {
  if (!Number.isInteger(layers) || layers < 1) throw new PluginError(`mask schedule 'dalle' needs a positive layer count, got ${layers}`)
  const cycle = ['row', 'column', 'row', 'row']
  return Array.from({ length: layers }, (_, l) => (l === layers - 1 ? { name: 'conv', kernelSize: convKernelSize } : cycle[l % 4]!))
}

/** Named schedules accepted where a per-layer mask list is expected. */
export const MASK_SCHEDULES: Record<string, (layers: number) => MaskSpec[]> = {
  dalle: (layers) => dalleMaskSchedule(layers),
}
