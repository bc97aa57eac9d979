/**
 * `webgpu` (Dawn for Node, ~130 MB of binaries) is an optional peer dependency (#20): loaded only
 * when the webgpu backend is asked for, and when it is absent the error names the install
 * command, while 'auto' falls back to the CPU backend and 'cpu' never touches it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'

afterEach(() => {
  vi.doUnmock('webgpu')
  vi.resetModules()
})

describe('without the webgpu package', () => {
  it('webgpu: an AdapterError naming the install command; auto: the CPU backend; cpu: never loads it', async () => {
    const loaded = vi.fn()
    vi.doMock('webgpu', () => {
      loaded()
      throw new Error("Cannot find package 'webgpu' imported from tensor-core")
    })
    vi.resetModules()
    delete (globalThis as { navigator?: unknown }).navigator
    const { Device, AdapterError } = await import('../src/index.js')
    const cpu = await Device.create({ backend: 'cpu' })
    expect(cpu.kind).toBe('cpu')
    expect(loaded).not.toHaveBeenCalled()
    const error = await Device.create({ backend: 'webgpu' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect((error as Error).message).toMatch(/optional npm package "webgpu".*`npm install webgpu`/)
    expect(loaded).toHaveBeenCalled()
    expect((await Device.create({ backend: 'auto' })).kind).toBe('cpu')
  })
})
