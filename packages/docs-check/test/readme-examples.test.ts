// Every ```ts / ```js block of every README runs as written, against the built workspace
// packages (`pnpm build` first; turbo's test task does). A block that is deliberately not a
// program (a listing, a sketch) says so with the info string ```ts fragment: that marker is
// the only way a block is skipped, and the report lists it.
//
// Each block is transformed by esbuild (TypeScript → ESM, types dropped) into
// packages/docs-check/.run/, where `@tessera/…` resolve to this workspace's packages (this
// package depends on all of them), and runs in its own node process with the repository root
// as the working directory (so `models/emoji` and the like are the repository's files).
//
// Backend: examples ask for `backend: 'auto'`. So that they run on the CPU backend here, the
// child sees no Vulkan driver (VK_ICD_FILENAMES names a missing file) and 'auto' falls back to
// the CPU. TESSERA_README_BACKEND=webgpu runs them on the machine's WebGPU adapter instead
// (Dawn on lavapipe: XDG_RUNTIME_DIR=/tmp/tessera-xdg).
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { transformSync } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'

const here = path.dirname(fileURLToPath(import.meta.url))
const pkgDir = path.resolve(here, '..')
const root = path.resolve(pkgDir, '../..')
const runDir = path.join(pkgDir, '.run')
const BLOCK_TIMEOUT_MS = Number(process.env.TESSERA_README_TIMEOUT_MS ?? 90_000)
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts'])

interface Block {
  readme: string // relative to the repository root
  line: number // of the opening fence, 1-based
  lang: string
  fragment: boolean
  code: string
}

/** The fenced code blocks of a markdown text whose language is ts/js (fragments included, flagged). */
function extractBlocks(markdown: string, readme: string, languages: ReadonlySet<string> = RUNNABLE): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i]!)
    if (!open) continue
    const [, indent, fence, lang, rest] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const l = lines[j]!
      if (l.trim().startsWith(fence!) && l.trim().replace(/[`~]/g, '') === '') break
      body.push(l.startsWith(indent!) ? l.slice(indent!.length) : l)
    }
    const language = lang!.toLowerCase()
    if (languages.has(language)) {
      blocks.push({ readme, line: i + 1, lang: language, fragment: /\bfragment\b/.test(rest!), code: body.join('\n') + '\n' })
    }
    i = j
  }
  return blocks
}

function readmes(): string[] {
  const found: string[] = []
  if (existsSync(path.join(root, 'README.md'))) found.push('README.md')
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(path.join(root, group)).sort()) {
      const rel = path.join(group, name, 'README.md')
      if (existsSync(path.join(root, rel))) found.push(rel)
    }
  }
  if (existsSync(path.join(root, 'models', 'README.md'))) found.push('models/README.md')
  return found
}

const all = readmes().flatMap((readme) => extractBlocks(readFileSync(path.join(root, readme), 'utf8'), readme))
const report = new Map<string, { ran: number[]; fragments: number[] }>()
for (const b of all) {
  const r = report.get(b.readme) ?? { ran: [], fragments: [] }
  ;(b.fragment ? r.fragments : r.ran).push(b.line)
  report.set(b.readme, r)
}

rmSync(runDir, { recursive: true, force: true })
mkdirSync(runDir, { recursive: true })

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  if (process.env.TESSERA_README_BACKEND !== 'webgpu') env.VK_ICD_FILENAMES = path.join(runDir, 'no-vulkan-driver.json')
  return env
}

function firstCodeLine(code: string): string {
  return code.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('//'))?.trim() ?? ''
}

afterAll(() => {
  const lines = [...report].map(
    ([readme, r]) =>
      `  ${readme}: ran ${r.ran.length} (line${r.ran.length === 1 ? '' : 's'} ${r.ran.join(', ') || '-'}), ` +
      `fragments ${r.fragments.length}${r.fragments.length ? ` (line ${r.fragments.join(', ')})` : ''}`,
  )
  console.log(`README examples (${process.env.TESSERA_README_BACKEND === 'webgpu' ? 'WebGPU' : 'CPU'} backend):\n${lines.join('\n')}`)
})

describe('README examples run as written', () => {
  it('extracts ts/js blocks, flags only those marked fragment, and leaves other languages', () => {
    const md = ['# x', '```ts', 'a()', '```', '```sh', 'pnpm x', '```', '```ts fragment', 'b(', '```', '- item', '  ```js', '  c()', '  ```', '````ts', '```', '````'].join('\n')
    const blocks = extractBlocks(md, 'X.md')
    expect(blocks.map((b) => [b.line, b.lang, b.fragment, b.code])).toEqual([
      [2, 'ts', false, 'a()\n'],
      [8, 'ts', true, 'b(\n'],
      [12, 'js', false, 'c()\n'],
      [15, 'ts', false, '```\n'],
    ])
  })

  it('finds the examples of every package README', () => {
    for (const name of readdirSync(path.join(root, 'packages'))) {
      const rel = path.join('packages', name, 'README.md')
      if (existsSync(path.join(root, rel)) && name !== 'docs-check') expect(report.get(rel)?.ran.length ?? 0, rel).toBeGreaterThan(0)
    }
  })

  for (const block of all) {
    const name = `${block.readme}:${block.line} ${firstCodeLine(block.code).slice(0, 70)}`
    if (block.fragment) {
      it.skip(`${name} (marked \`${block.lang} fragment\`)`, () => {})
      continue
    }
    it(name, async () => {
      const { code } = transformSync(block.code, { loader: block.lang.startsWith('t') || block.lang === 'mts' ? 'ts' : 'js', format: 'esm', target: 'node20', sourcefile: `${block.readme}:${block.line}` })
      const file = path.join(runDir, `${block.readme.replace(/[\\/]/g, '_').replace(/\.md$/, '')}-${block.line}.mjs`)
      writeFileSync(file, code)
      const started = performance.now()
      const res = await run(process.execPath, [file], { env: childEnv(), timeout: BLOCK_TIMEOUT_MS })
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      const stderr = (res.stderr ?? '')
        .split('\n')
        .filter((l) => !/^Warning: |VulkanError\.cpp|^\s*$/.test(l)) // Dawn's notes about the hidden driver
        .join('\n')
      const why = res.error ? `${res.error.message}${res.signal ? ` (${res.signal}, after ${seconds} s; limit ${BLOCK_TIMEOUT_MS / 1000} s)` : ''}` : `exit code ${res.status}`
      if (res.status !== 0 || res.error) {
        throw new Error(`${block.readme} block at line ${block.line} failed (${why}):\n  ${firstCodeLine(block.code)}\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${(res.stdout ?? '').slice(-2000)}`)
      }
    })
  }

  // Shell blocks are not run (they train for minutes), but each `pnpm tessera <command>` names a
  // real command: its --help prints that command's usage.
  it('names real CLI commands in shell blocks', async () => {
    const cli = path.join(root, 'apps/cli/dist/index.js')
    const commands = new Map<string, string>() // command words → where first seen
    for (const readme of readmes()) {
      for (const b of extractBlocks(readFileSync(path.join(root, readme), 'utf8'), readme, new Set(['sh', 'bash', 'shell']))) {
        for (const m of b.code.matchAll(/pnpm tessera((?: [a-z][a-z-]*(?=\s|$))*)/gm)) {
          const words = m[1]!.trim()
          if (!commands.has(words)) commands.set(words, `${readme}:${b.line}`)
        }
      }
    }
    expect(commands.size).toBeGreaterThan(3)
    const bad: string[] = []
    for (const [words, where] of commands) {
      const res = await run(process.execPath, [cli, ...words.split(' ').filter(Boolean), '--help'], { timeout: 30_000 })
      // "Usage: tessera train dvae [options]": the command path is the words before the first [ or <.
      // Words past it must be arguments (bench <which>), not an unknown subcommand ([command]).
      const usage = /^Usage: tessera(.*)$/m.exec(res.stdout ?? '')?.[1] ?? ''
      const path = usage.split(/ [[<]/)[0]!.trim()
      const known = words === path || (path !== '' && words.startsWith(`${path} `) && !usage.includes('[command]'))
      if (res.status !== 0 || !known) bad.push(`${where}: pnpm tessera ${words} (exit ${res.status}; its --help says "Usage: tessera${usage}")`)
    }
    console.log(`CLI commands named in shell blocks: ${[...commands.keys()].map((w) => w || '(none)').join(', ')}`)
    expect(bad).toEqual([])
  })
})

/**
 * A child process from the repository root, awaited without blocking: a spawnSync of a
 * minute-long example starves vitest's worker RPC ("Timeout calling onTaskUpdate") on a busy machine.
 */
function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout: number }): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: opts.env ?? process.env, timeout: opts.timeout })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    let error: Error | undefined
    child.on('error', (e) => (error = e))
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, error: error ?? (signal ? new Error(`killed by ${signal}`) : undefined) }))
  })
}
