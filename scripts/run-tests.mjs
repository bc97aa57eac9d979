// Runs every package's tests through turbo (one package at a time: lavapipe already uses both
// cores; --continue so one failing package does not hide the others) and closes with a summary
// read from the reports that scripts/vitest-report.mjs writes, one per package:
//   failed and skipped tests by name, test files that failed (an import error is one), packages
//   whose tests did not run or did not finish, turbo's failed tasks (a build, say), then one line
//   with every count.
// Arguments go to turbo, those after `--` to vitest: pnpm test -- --filter=@tessera/bpe -- test/gpt2.test.ts
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const split = args.includes('--') ? args.indexOf('--') : args.length
const [turboArgs, vitestArgs] = [args.slice(0, split), args.slice(split + 1)]
const reporter = fileURLToPath(new URL('./vitest-report.mjs', import.meta.url))
const reportDir = mkdtempSync(join(tmpdir(), 'tessera-test-reports-'))
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', TESSERA_TEST_REPORT_DIR: reportDir }

// The packages that have a test task under these arguments: each must leave a report.
const dry = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--dry=json', ...turboArgs], { env, encoding: 'utf8', maxBuffer: 1 << 26 })
if (dry.status !== 0) {
  process.stderr.write(dry.stderr)
  process.exit(dry.status ?? 1)
}
const packages = JSON.parse(dry.stdout).tasks.filter((t) => t.task === 'test' && t.command !== '<NONEXISTENT>').map((t) => t.package)

// Tasks whose dependencies failed (a package that does not build) are not run, so they leave no report.
const turbo = spawn('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue=dependencies-successful', ...turboArgs, '--', '--reporter=default', `--reporter=${reporter}`, ...vitestArgs], { env, stdio: ['ignore', 'pipe', 'inherit'] })
// turbo's closing "Failed:    @tessera/x#build, @tessera/x#test" names every failed task.
let failedTasks = []
let tail = ''
turbo.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4096)
})
const status = await new Promise((resolve) => turbo.on('close', resolve))
for (const line of tail.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
  const m = /^\s*Failed:\s+(.+)$/.exec(line)
  if (m) failedTasks = m[1].split(',').map((t) => t.trim())
}

const count = { passed: 0, failed: 0, skipped: 0, filesPassed: 0, filesFailed: 0 }
const failedTests = []
const skippedTests = []
const failedFiles = []
const missing = []
for (const pkg of packages) {
  const path = join(reportDir, `${pkg.replace(/[^\w.-]+/g, '_')}.json`)
  if (!existsSync(path)) {
    missing.push(pkg)
    continue
  }
  const report = JSON.parse(readFileSync(path, 'utf8'))
  if (report.reason === 'interrupted') missing.push(`${pkg} (interrupted)`)
  else if (report.files.length === 0) missing.push(`${pkg} (no test files)`)
  for (const message of report.unhandledErrors) failedFiles.push(`${pkg}: unhandled error: ${message}`)
  for (const file of report.files) {
    const failed = file.state !== 'passed' && file.state !== 'skipped'
    count[failed ? 'filesFailed' : 'filesPassed']++
    if (failed && !file.tests.some((t) => t.state === 'failed')) failedFiles.push(`${pkg} ${file.file}: ${file.state}${file.errors.length ? `: ${file.errors[0].split('\n')[0]}` : ''}`)
    for (const t of file.tests) {
      const name = `${pkg} ${file.file} > ${t.name}`
      if (t.state === 'passed') count.passed++
      else if (t.state === 'failed') (count.failed++, failedTests.push(name))
      else (count.skipped++, skippedTests.push(t.note ? `${name} (${t.note})` : name))
    }
  }
}
rmSync(reportDir, { recursive: true, force: true })

const list = (title, items) => items.length && console.log(`\n${title} (${items.length}):\n${items.map((s) => `  ${s}`).join('\n')}`)
list('failed tests', failedTests)
list('failed test files', failedFiles)
list('skipped tests', skippedTests)
list('packages whose tests did not run or finish', missing)
list('failed turbo tasks', failedTasks)
const ran = packages.length - missing.length
console.log(
  `\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped; ` +
    `test files: ${count.filesPassed} passed, ${count.filesFailed} failed; ` +
    `packages: ${ran} of ${packages.length} ran${missing.length ? ` (not: ${missing.join(', ')})` : ''}` +
    (failedTasks.length ? `; failed tasks: ${failedTasks.join(', ')}` : ''),
)
const ok = status === 0 && count.failed === 0 && count.filesFailed === 0 && failedFiles.length === 0 && missing.length === 0
process.exit(ok ? 0 : status || 1)
