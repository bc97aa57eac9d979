import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { HostRandom } from '../../src/nn/init.js'

/** Deterministic PRNG (the library's seeded host generator) so failures reproduce. */
export function seededRandom(seed: number): () => number {
  const rng = new HostRandom(seed)
  return () => rng.next()
}

/**
 * Assemble a safetensors file from an arbitrary (possibly invalid) header
 * object or raw header string and a data buffer: for exercising the validator.
 */
export function buildFile(header: object | string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}

/** Returns a maker of fresh temp directories; all are removed after each test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-io-'))
    made.push(dir)
    return dir
  }
}
