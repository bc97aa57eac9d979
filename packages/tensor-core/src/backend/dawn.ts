import { AdapterError } from '../errors.js'
import { paceDawnPolling } from './dawn-polling.js'

/**
 * Dawn's GPU object for this process, shared on globalThis (so copies of the package, and
 * test files re-evaluating modules, share it). It plays navigator.gpu's part and is never
 * released: collecting it while work is pending aborts the process, and creating and
 * dropping one per device made lavapipe crash in later, unrelated work.
 */
const DAWN_GPU = Symbol.for('tessera.tensor-core.dawnGpu')

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node
}

/** `navigator.gpu` in browsers; in Node, Dawn through the npm package `webgpu`. */
export async function loadGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator
  if (nav?.gpu) return nav.gpu
  if (!isNode()) {
    throw new AdapterError('this browser exposes no navigator.gpu: use a WebGPU-capable browser (Chrome/Edge 113+, or enable WebGPU), or Device.create({ backend: "cpu" })')
  }
  let mod: { create: (flags: string[]) => GPU; globals: object }
  try {
    mod = (await import('webgpu')) as unknown as typeof mod
  } catch (err) {
    // An optional peer dependency: CPU-only and browser users need not install its binaries.
    throw new AdapterError(
      `the webgpu backend in Node needs Dawn, the optional npm package "webgpu", which could not be loaded (${(err as Error).message}): ` +
        'install it with `npm install webgpu` (or `pnpm add webgpu`), or use Device.create({ backend: "cpu" })',
    )
  }
  for (const [name, value] of Object.entries(mod.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value
  }
  paceDawnPolling()
  const shared = globalThis as { [DAWN_GPU]?: GPU }
  shared[DAWN_GPU] ??= mod.create([])
  return shared[DAWN_GPU]
}

export const NO_ADAPTER_HELP =
  'no WebGPU adapter was found. On Linux install a Vulkan driver: Mesa >= 23 lavapipe ' +
  '(Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers`; bookworm\'s own Mesa 22 is rejected by Dawn) ' +
  'and set XDG_RUNTIME_DIR to a writable directory; or use Device.create({ backend: "cpu" })'
