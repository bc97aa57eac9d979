/**
 * Kill a real writer process mid-checkpoint with SIGKILL and check the previous
 * checkpoint survives. The child runs the actual src/io code, transpiled to JS
 * with TypeScript (Node 20 cannot run .ts), writing through a deliberately slow
 * chunk source so the kill lands mid-file.
 */
import { spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { CHECKPOINT_FILE, cleanStaleTemps, loadCheckpoint, saveCheckpoint, type HostTensor } from '../../src/io/index.js'
import { useTempDirs } from './helpers.js'

const makeDir = useTempDirs()
const ioSourceDir = join(dirname(fileURLToPath(import.meta.url)), '../../src/io')

async function transpileIoModules(outDir: string): Promise<void> {
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}')
  for (const name of await readdir(ioSourceDir)) {
    if (!name.endsWith('.ts')) continue
    const source = await readFile(join(ioSourceDir, name), 'utf8')
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    })
    await writeFile(join(outDir, name.replace(/\.ts$/, '.js')), outputText)
  }
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
    const codeDir = await makeDir()
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
