import { describe, expect, it } from 'vitest'
import { dalleMaskSchedule, getPlugin, listPlugins, PluginError } from '../src/index.js'

// Text length 2, a grid of 3 rows × 4 columns: L = 14. Image position i sits at row ⌊i/4⌋, column i mod 4.
const T = 2
const grid = [3, 4] as const
const L = T + 12

/** Keys query q may attend to, as a sorted list of positions. */
function keysOf(mask: Uint8Array, q: number): number[] {
  return [...mask.subarray(q * L, (q + 1) * L)].flatMap((v, k) => (v ? [k] : []))
}

const text = [0, 1]
const img = (...js: number[]) => js.map((j) => T + j)

describe('built-in attention masks', () => {
  it('are registered by name', () => {
    expect(listPlugins('attentionMask')).toEqual(expect.arrayContaining(['row', 'column', 'conv', 'causal', 'full']))
  })

  it('text queries are causal and never see image positions (every mask but full)', () => {
    for (const name of ['row', 'column', 'conv', 'causal']) {
      const m = getPlugin('attentionMask', name).allowed({ textLength: T, gridSize: grid, kernelSize: 3 })
      expect(m.length).toBe(L * L)
      expect(keysOf(m, 0)).toEqual([0])
      expect(keysOf(m, 1)).toEqual([0, 1])
    }
  })

  // Hand-written expectations for image positions 0, 5 (row 1, col 1), 7 (row 1, col 3: the right
  // edge) and 11 (the last).
  const expected: Record<string, Record<number, number[]>> = {
    row: { 0: [0], 5: [1, 2, 3, 4, 5], 7: [3, 4, 5, 6, 7], 11: [7, 8, 9, 10, 11] },
    column: { 0: [0], 5: [1, 5], 7: [3, 7], 11: [3, 7, 11] },
    // 3×3 window, earlier-or-equal positions only, no wrap-around from column 3 to column 0.
    conv: { 0: [0], 5: [0, 1, 2, 4, 5], 7: [2, 3, 6, 7], 11: [6, 7, 10, 11] },
    causal: { 0: [0], 5: [0, 1, 2, 3, 4, 5], 7: [0, 1, 2, 3, 4, 5, 6, 7], 11: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
  }
  for (const [name, byQuery] of Object.entries(expected)) {
    it(`${name}: every image query sees all text and exactly its pattern's image keys`, () => {
      const m = getPlugin('attentionMask', name).allowed({ textLength: T, gridSize: grid, kernelSize: 3 })
      for (const [i, js] of Object.entries(byQuery)) expect(keysOf(m, T + +i)).toEqual([...text, ...img(...js)])
    })
  }

  it('conv with kernelSize 5 reaches two rows and columns each way, default kernelSize is 11', () => {
    const m5 = getPlugin('attentionMask', 'conv').allowed({ textLength: T, gridSize: grid, kernelSize: 5 })
    expect(keysOf(m5, T + 11)).toEqual([...text, ...img(1, 2, 3, 5, 6, 7, 9, 10, 11)])
    const m11 = getPlugin('attentionMask', 'conv').allowed({ textLength: T, gridSize: grid })
    const causal = getPlugin('attentionMask', 'causal').allowed({ textLength: T, gridSize: grid })
    expect(m11).toEqual(causal) // an 11×11 window covers the whole 3×4 grid
  })

  it('no built-in prior mask lets a query see a later position', () => {
    for (const name of ['row', 'column', 'conv', 'causal']) {
      const m = getPlugin('attentionMask', name).allowed({ textLength: 3, gridSize: [5, 7], kernelSize: 3 })
      const L2 = 3 + 35
      for (let q = 0; q < L2; q++) for (let k = q + 1; k < L2; k++) expect(m[q * L2 + k]).toBe(0)
    }
  })

  it('full allows everything', () => {
    expect(getPlugin('attentionMask', 'full').allowed({ textLength: T, gridSize: grid }).every((v) => v === 1)).toBe(true)
  })

  it('reject bad geometry and kernel sizes with a PluginError', () => {
    const conv = getPlugin('attentionMask', 'conv')
    expect(() => conv.allowed({ textLength: T, gridSize: grid, kernelSize: 4 })).toThrow(/kernelSize must be a positive odd integer/)
    expect(() => conv.allowed({ textLength: -1, gridSize: grid })).toThrow(PluginError)
    expect(() => conv.allowed({ textLength: 1, gridSize: [0, 3] })).toThrow(/gridSize/)
  })

  it("'dalle' schedule: row, column, row, row repeating with conv (k 11) last", () => {
    expect(dalleMaskSchedule(1)).toEqual([{ name: 'conv', kernelSize: 11 }])
    expect(dalleMaskSchedule(6)).toEqual(['row', 'column', 'row', 'row', 'row', { name: 'conv', kernelSize: 11 }])
    expect(dalleMaskSchedule(3, 5)).toEqual(['row', 'column', { name: 'conv', kernelSize: 5 }])
  })
})
