import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../dist/index.js', import.meta.url))
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const env = (extra: Record<string, string>) => ({ ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...extra })
/** stderr lines without Dawn's own adapter warnings. */
const lines = (stderr: string) => stderr.split('\n').filter((l) => l && !/^Warning: /.test(l))

/**
 * Runs the built CLI (or `command`) from the repository root and resolves when it exits. Not
 * spawnSync: a long run would block vitest's worker thread past its RPC timeout ('Timeout calling
 * onTaskUpdate') on a loaded machine and fail the suite though the command itself succeeded.
 */
export function tessera(args: string[], extraEnv: Record<string, string> = {}, command = [process.execPath, CLI]) {
  return startTessera(args, extraEnv, command).done
}

/** Starts the built CLI (or `command`) without waiting: for signalling it mid-run. */
export function startTessera(args: string[], extraEnv: Record<string, string> = {}, command = [process.execPath, CLI]) {
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, env: env(extraEnv) })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const done = new Promise<{ status: number | null; stdout: string; stderr: string[] }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr: lines(stderr) })))
  return { child, done }
}
