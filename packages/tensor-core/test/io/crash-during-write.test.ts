/**
 * Kill a real writer process mid-checkpoint with SIGKILL and check the previous
 * checkpoint survives. The child runs the actual src/io code, transpiled to JS
 * with TypeScript (Node 20 cannot run .ts), writing through a deliberately slow
 * chunk source so the kill lands mid-file.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, realpath, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE, cleanStaleTemps, loadCheckpoint, saveCheckpoint, type HostTensor } from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

const makeDir = useTempDirs()
const ioSourceDir = join(dirname(fileURLToPath(import.meta.url)), '../../src/io')

/** Transpiles src/io/*.ts into `outDir` and the modules outside io/ that they import (the error classes) beside it, in its parent, with @tessera/errors linked there. */
async function transpileIoModules(outDir: string): Promise<void> {
  const transpile = async (from: string, to: string) => {
    const { outputText } = ts.transpileModule(await readFile(from, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    })
    await writeFile(to, outputText)
  }
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}')
  for (const name of await readdir(ioSourceDir)) {
    if (name.endsWith('.ts')) await transpile(join(ioSourceDir, name), join(outDir, name.replace(/\.ts$/, '.js')))
  }
  await writeFile(join(outDir, '..', 'package.json'), '{"type":"module"}')
  await transpile(join(ioSourceDir, '..', 'errors.ts'), join(outDir, '..', 'errors.js'))
  // The error base's own package, found from there as from this package.
  await mkdir(join(outDir, '..', 'node_modules', '@tessera'), { recursive: true })
  await symlink(await realpath(join(ioSourceDir, '../../node_modules/@tessera/errors')), join(outDir, '..', 'node_modules', '@tessera', 'errors'), 'dir')
}

// 8 MiB of tensors written in 64 KiB slices with a pause between them: about 1.3 s of writing.
const CHILD_SCRIPT = `
import { writeFileAtomic } from './node-atomic-write.js'
import { checkpointMetadata } from './checkpoint-format.js'
import { serializeSafetensors } from './safetensors-serialize.js'
const [target] = process.argv.slice(2)
const big = { 'model.big': { dtype: 'f32', shape: [2 * 1024 * 1024], data: new Float32Array(2 * 1024 * 1024).fill(7) } }
const bytes = serializeSafetensors(big, checkpointMetadata({ step: 999 }))
async function* slowly() {
  for (let offset = 0; offset < bytes.length; offset += 65536) {
    yield bytes.subarray(offset, offset + 65536)
    if (offset === 0) process.stdout.write('writing\\n')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
await writeFileAtomic(target, slowly())
process.stdout.write('done\\n')
`

describe('crash during a checkpoint write', () => {
  it('SIGKILL mid-write leaves the previous checkpoint loadable; the orphaned temp is ignored and cleanable', async () => {
    const dir = await makeDir()
    const codeDir = join(await makeDir(), 'io')
    await mkdir(codeDir)
    await transpileIoModules(codeDir)
    await writeFile(join(codeDir, 'child.mjs'), CHILD_SCRIPT)

    const previous = { 'model.w': { dtype: 'f32', shape: [3], data: new Float32Array([1, 2, 3]) } } satisfies Record<string, HostTensor>
    await saveCheckpoint(dir, { tensors: previous, state: { step: 1 } })

    const child = spawn(process.execPath, [join(codeDir, 'child.mjs'), join(dir, CHECKPOINT_FILE)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let childAlive = true
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => {
        childAlive = false
        resolve(signal)
      }),
    )
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('writing')) resolve()
      })
      child.on('exit', () => reject(new Error(`child exited before writing: ${output}`)))
    })
    // Wait until a good part of the new file is on disk, then kill without warning.
    const tempName = () => readdir(dir).then((names) => names.find((n) => n.includes('.tmp-')))
    for (;;) {
      if (!childAlive) expect.fail(`child finished before it could be killed: ${output}`)
      const name = await tempName()
      if (name !== undefined && (await stat(join(dir, name))).size > 1024 * 1024) break
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    expect(output).not.toContain('done')

    const orphan = await tempName()
    expect(orphan).toBeDefined()
    const loaded = await loadCheckpoint(dir)
    expect(loaded).toMatchObject({ tensors: previous, state: { step: 1 }, path: join(dir, CHECKPOINT_FILE), skipped: [] })

    expect(await cleanStaleTemps(dir)).toEqual([orphan])
    expect(await readdir(dir)).toEqual([CHECKPOINT_FILE])
  })
})

// saveCheckpoint itself in a child, its writes slowed (and, at 'between-renames', its first
// rename followed by a hang) by patching the node:fs/promises builtin before it is imported.
const CHECKPOINT_CHILD = `
import { createRequire, syncBuiltinESMExports } from 'node:module'
const fsp = createRequire(import.meta.url)('node:fs/promises')
const [dir, stage] = process.argv.slice(2)
const [realOpen, realRename] = [fsp.open, fsp.rename]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
fsp.open = async (path, flags, mode) => {
  const handle = await realOpen(path, flags, mode)
  if (flags === 'wx') {
    const write = handle.write.bind(handle)
    handle.write = async (...args) => {
      const result = await write(...args)
      process.stdout.write('writing\\n')
      await sleep(10)
      return result
    }
  }
  return handle
}
fsp.rename = async (from, to) => {
  await realRename(from, to)
  if (stage === 'between-renames') {
    process.stdout.write('between\\n')
    await sleep(1e9)
  }
}
syncBuiltinESMExports()
const { saveCheckpoint } = await import('./node-checkpoint.js')
const tensors = {}
for (let i = 0; i < 64; i++) tensors['model.t' + i] = { dtype: 'f32', shape: [32768], data: new Float32Array(32768).fill(i) }
await saveCheckpoint(dir, { tensors, state: { step: 2 } })
process.stdout.write('done\\n')
`

describe('crash during saveCheckpoint', () => {
  const previous = { 'model.w': { dtype: 'f32', shape: [3], data: new Float32Array([1, 2, 3]) } } satisfies Record<string, HostTensor>

  async function killChild(dir: string, stage: 'mid-write' | 'between-renames'): Promise<void> {
    const codeDir = join(await makeDir(), 'io')
    await mkdir(codeDir)
    await transpileIoModules(codeDir)
    await writeFile(join(codeDir, 'child.mjs'), CHECKPOINT_CHILD)
    const child = spawn(process.execPath, [join(codeDir, 'child.mjs'), dir, stage], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    let output = ''
    const tempSize = async () => {
      const name = (await readdir(dir)).find((n) => n.includes('.tmp-'))
      return name === undefined ? 0 : (await stat(join(dir, name))).size
    }
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', async (chunk: Buffer) => {
        output += chunk.toString()
        if (stage === 'between-renames' ? output.includes('between') : output.includes('writing') && (await tempSize()) > 1024 * 1024) resolve()
      })
      child.on('exit', () => reject(new Error(`child exited before the kill point: ${output}`)))
    })
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    expect(output).not.toContain('done')
  }

  it('SIGKILL while the new checkpoint is half written: the previous one loads as current', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, { tensors: previous, state: { step: 1 } })
    await killChild(dir, 'mid-write')
    expect(await loadCheckpoint(dir)).toMatchObject({ tensors: previous, state: { step: 1 }, path: join(dir, CHECKPOINT_FILE), skipped: [] })
    // The next save sweeps the dead writer's temp and goes ahead.
    await saveCheckpoint(dir, { tensors: previous, state: { step: 3 } })
    expect((await readdir(dir)).sort()).toEqual([CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE].sort())
    expect(await loadCheckpoint(dir)).toMatchObject({ state: { step: 3 }, skipped: [] })
  })

  it('SIGKILL between the two renames: current is gone, the previous one loads from prev, the next save recovers', async () => {
    const dir = await makeDir()
    await saveCheckpoint(dir, { tensors: previous, state: { step: 1 } })
    await killChild(dir, 'between-renames')
    expect(await loadCheckpoint(dir)).toMatchObject({ tensors: previous, state: { step: 1 }, path: join(dir, PREVIOUS_CHECKPOINT_FILE), skipped: [] })
    await saveCheckpoint(dir, { tensors: previous, state: { step: 3 } })
    expect(await loadCheckpoint(dir)).toMatchObject({ state: { step: 3 }, path: join(dir, CHECKPOINT_FILE), skipped: [] })
  })
})
