import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../dist/index.js', import.meta.url))
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const env = (extra: Record<string, string>) => ({ ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...extra })
/** stderr lines without Dawn's own adapter warnings. */
const lines = (stderr: string) => stderr.split('\n').filter((l) => l && !/^Warning: /.test(l))

/** Runs the built CLI (or `command`) from the repository root and waits for it. */
export function tessera(args: string[], extraEnv: Record<string, string> = {}, command = [process.execPath, CLI]) {
  const run = spawnSync(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, encoding: 'utf8', env: env(extraEnv), timeout: 300_000 })
  return { status: run.status, stdout: run.stdout, stderr: lines(run.stderr) }
}

/** Starts the built CLI without waiting: for signalling it mid-run. */
export function startTessera(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: env({}) })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const done = new Promise<{ status: number | null; stdout: string; stderr: string[] }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr: lines(stderr) })))
  return { child, done }
}
