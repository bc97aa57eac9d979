import { describe, expect, it } from 'vitest'
import { CONTRACT_VERSIONS, getPlugin, listPlugins, PluginError, PluginNotFoundError, registerPlugin, unregisterPlugin, type AttentionMaskPlugin } from '../src/index.js'

const diagonal = (name: string, contract: number = CONTRACT_VERSIONS.attentionMask): AttentionMaskPlugin => ({
  kind: 'attentionMask',
  name,
  contract,
  allowed: ({ textLength, gridSize }) => {
    const L = textLength + gridSize[0] * gridSize[1]
    return Uint8Array.from({ length: L * L }, (_, i) => +(Math.floor(i / L) === i % L))
  },
})

describe('plugin registry', () => {
  it('an unknown name throws PluginNotFoundError listing the registered names', () => {
    let err: unknown
    try {
      getPlugin('sampler', 'nucleus')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PluginNotFoundError)
    expect((err as Error).message).toMatch(/no sampler plugin named 'nucleus'; registered: 'temperature', 'topK', 'topP', 'greedy', 'cfg'/)
  })

  it('registers, refuses duplicates unless asked, and unregisters', () => {
    registerPlugin(diagonal('test-diagonal'))
    expect(listPlugins('attentionMask')).toContain('test-diagonal')
    expect(() => registerPlugin(diagonal('test-diagonal'))).toThrow(/already registered/)
    const other = diagonal('test-diagonal')
    registerPlugin(other, { ifAbsent: true })
    expect(getPlugin('attentionMask', 'test-diagonal')).not.toBe(other)
    registerPlugin(other, { replace: true })
    expect(getPlugin('attentionMask', 'test-diagonal')).toBe(other)
    expect(unregisterPlugin('attentionMask', 'test-diagonal')).toBe(true)
    expect(() => getPlugin('attentionMask', 'test-diagonal')).toThrow(PluginNotFoundError)
  })

  it('refuses a contract version mismatch, a missing method, an unknown kind and an empty name', () => {
    expect(() => registerPlugin(diagonal('old', 0))).toThrow(/implements contract version 0, this @tessera\/plugins implements 1/)
    expect(() => registerPlugin({ kind: 'sampler', name: 'x', contract: 1 } as never)).toThrow(/has no create\(\) method/)
    expect(() => registerPlugin({ kind: 'upscaler', name: 'x', contract: 1 } as never)).toThrow(/unknown plugin kind 'upscaler'/)
    expect(() => registerPlugin(diagonal(''))).toThrow(PluginError)
  })

  it('two copies of the package share one registry (globalThis, Symbol.for)', async () => {
    // A second module instance of the built package, as a second install would load.
    const url = new URL('../dist/index.js', import.meta.url).href
    const copy = (await import(`${url}?copy=2`)) as typeof import('../src/index.js')
    copy.registerPlugin(diagonal('from-copy'))
    expect(getPlugin('attentionMask', 'from-copy').name).toBe('from-copy')
    expect(copy.listPlugins('sampler')).toEqual(listPlugins('sampler'))
    unregisterPlugin('attentionMask', 'from-copy')
  })
})
