import { Device } from '@tessera/tensor-core'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyBundle } from '../src/testing.js'

export { tinyParts, tinyTokenizer } from '../src/testing.js'

let cpu: Promise<Device> | null = null
let gpu: Promise<Device> | null = null
export const cpuDevice = () => (cpu ??= Device.create({ backend: 'cpu' }))
export const gpuDevice = () => (gpu ??= Device.create({ backend: 'webgpu' }))

/** A tiny bundle written to a fresh temporary directory. */
export async function tinyBundleDir(device: Device): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dalle-bundle-'))
  await writeTinyBundle(device, dir, { training: { note: 'untrained: for tests' }, metrics: { heldOutImageCe: 4.2 } })
  return dir
}
