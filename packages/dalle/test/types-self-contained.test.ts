/**
 * The published types stand on their own (#20): a project that imports every Tessera package and
 * type-checks with `skipLibCheck: false` compiles, whether it is a Node project (@types/node) or
 * a browser one (no Node types), without listing @webgpu/types itself. Before, tensor-core's
 * index.d.ts used GPUPowerPreference without referencing @webgpu/types, and imported node:fs types.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const CONSUMER = `
import { Device, ops, type DeviceOptions } from '@tessera/tensor-core'
import { BPETokenizer, ClipTokenizer } from '@tessera/bpe'
import { decodePng, loadImageFolder } from '@tessera/datasets'
import { getPlugin } from '@tessera/plugins'
import { DiscreteVAE } from '@tessera/dvae'
import { Prior } from '@tessera/prior'
import { CLIP } from '@tessera/clip-rerank'
import { loadBundle, generateImages } from '@tessera/dalle'
import { modelUrl } from '@tessera/models'
export const options: DeviceOptions = { backend: 'webgpu', powerPreference: 'high-performance' }
export const used = [Device, ops, BPETokenizer, ClipTokenizer, decodePng, loadImageFolder, getPlugin, DiscreteVAE, Prior, CLIP, loadBundle, generateImages, modelUrl]
`

async function typecheck(types: string[]): Promise<string[]> {
  // Inside the package, so '@tessera/*' resolve through its node_modules as an installed copy would.
  const dir = await mkdtemp(join(PACKAGE_DIR, '.types-check-'))
  try {
    const file = join(dir, 'consumer.ts')
    await writeFile(file, CONSUMER)
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types,
    })
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(PACKAGE_DIR, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : ''
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('published types', () => {
  it('type-check with skipLibCheck: false in a Node project (types: node)', async () => {
    expect(await typecheck(['node'])).toEqual([])
  }, 120_000)

  it('type-check with skipLibCheck: false in a browser project (no Node types)', async () => {
    expect(await typecheck([])).toEqual([])
  }, 120_000)
})
