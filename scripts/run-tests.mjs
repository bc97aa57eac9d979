// Runs every package's tests through turbo (one package at a time: lavapipe already uses
// both cores) and closes with one summed line, "N passed, N failed", across packages.
import { spawn } from 'node:child_process'

const child = spawn('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
})
let passed = 0
let failed = 0
let skipped = 0
let pending = ''
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')
function scan(chunk) {
  pending += chunk
  const lines = pending.split('\n')
  pending = lines.pop()
  for (const line of lines) {
    // vitest's summary: "Tests  2 failed | 64 passed | 1 skipped (67)"
    const m = /^\S*\s*Tests\s+(.*)\(\d+\)\s*$/.exec(strip(line).replace(/^@[^:]+:test:\s*/, ''))
    if (!m) continue
    for (const [, n, kind] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
      if (kind === 'passed') passed += +n
      else if (kind === 'failed') failed += +n
      else skipped += +n
    }
  }
}
child.stdout.on('data', (d) => {
  process.stdout.write(d)
  scan(d.toString())
})
child.stderr.on('data', (d) => process.stderr.write(d))
child.on('close', (code) => {
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(code ?? 1)
})
