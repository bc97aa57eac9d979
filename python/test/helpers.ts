// Runs python/train.py one process or several (torchrun on gloo) and reads what it leaves: the
// per-step JSON lines of its --log, its model directories and checkpoints. The Python is Debian's
// (/usr/bin/python3 with python3-torch, `bash scripts/setup.sh --with-torch`); TORCH_PYTHON
// overrides it. Every process gets one thread: two processes on this machine's two cores.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'

export const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3'
export const PYTHON_DIR = new URL('..', import.meta.url).pathname
export const TRAIN = join(PYTHON_DIR, 'train.py')
export const PYTHON_ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONPATH: PYTHON_DIR, PYTHONDONTWRITEBYTECODE: '1' }

/** Why these tests cannot run here (no torch with gloo), or null. Under CI a missing torch fails: .ci/run installs it. */
export function torchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, torch, torch.distributed as d; assert d.is_available() and d.is_gloo_available(), "torch.distributed without gloo"'], { encoding: 'utf8', env: PYTHON_ENV })
  if (probe.status === 0) return null
  const detail = (probe.stderr || probe.error?.message || `exit status ${probe.status}`).trim().split('\n').at(-1)
  const reason = `needs ${PYTHON} with torch (gloo) and numpy (bash scripts/setup.sh --with-torch): ${detail}`
  if (process.env.CI) throw new Error(`CI: ${reason}`)
  return reason
}

export interface RunResult {
  status: number | null
  signal: NodeJS.Signals | null
  output: string
  seconds: number
}

/** python/train.py MODEL ARGS: one plain process (nproc 1) or torchrun --standalone --nproc_per_node N on gloo. */
/** `watch` is called every 100 ms while it runs, with a function that SIGKILLs the whole run. */
export function train(model: string, args: string[], opts: { nproc?: number; watch?: (kill: () => void) => void } = {}): Promise<RunResult> {
  const nproc = opts.nproc ?? 1
  // Debian's torch 1.13 torchrun cannot start on Python 3.11; tessera_torch.launch is torchrun with that fixed.
  const command = nproc === 1 ? [TRAIN, model, ...args] : ['-m', 'tessera_torch.launch', '--standalone', '--nproc_per_node', String(nproc), TRAIN, model, ...args]
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, command, { cwd: PYTHON_DIR, env: PYTHON_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL') // the whole group: torchrun's agent and every worker
      } catch {
        /* already gone */
      }
    }
    const take = (chunk: Buffer) => {
      output += chunk.toString()
    }
    const timer = opts.watch ? setInterval(() => opts.watch!(kill), 100) : null
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    child.on('error', reject)
    child.on('close', (status, signal) => {
      if (timer) clearInterval(timer)
      resolve({ status, signal, output, seconds: (performance.now() - started) / 1000 })
    })
  })
}

/** A run that must succeed; its output in the failure message otherwise. */
export async function trainOk(model: string, args: string[], nproc = 1): Promise<RunResult> {
  const run = await train(model, args, { nproc })
  if (run.status !== 0) throw new Error(`train.py ${model} (${nproc} process${nproc > 1 ? 'es' : ''}) failed with ${run.status ?? run.signal}:\n${run.output.slice(-4000)}`)
  return run
}

/**
 * The kill-and-resume check every trainer gets: `python/train.py MODEL ARGS` on `nproc` processes with
 * slowed steps, SIGKILLed (torchrun and every worker) once `after` steps are in its --log; the
 * killed run must not have written its --out; then the same command again, which must resume and
 * finish. How many steps were logged at the kill, and the step the rerun says it resumed from.
 */
export async function killThenResume(model: string, args: string[], opts: { log: string; out: string; after: number; nproc?: number }): Promise<{ killedAt: number; resumedFrom: number }> {
  const nproc = opts.nproc ?? 2
  let killedAt = -1
  const first = await train(model, [...args, '--step-delay-ms', '400'], {
    nproc,
    watch: (kill) => {
      if (killedAt < 0 && existsSync(opts.log) && readSteps(opts.log).length >= opts.after) {
        killedAt = readSteps(opts.log).length
        kill()
      }
    },
  })
  expect(first.signal ?? first.status).not.toBe(0)
  expect(killedAt).toBeGreaterThanOrEqual(opts.after)
  expect(existsSync(opts.out)).toBe(false)
  const second = await trainOk(model, args, nproc)
  const resumedFrom = Number(/resumed from .* at step (\d+)/.exec(second.output)?.[1])
  expect(resumedFrom).toBeLessThanOrEqual(killedAt)
  return { killedAt, resumedFrom }
}

export interface StepLine {
  step: number
  loss: number
  [key: string]: number
}

/** The step lines of a --log file; a step logged twice (before a kill and after the resume) keeps its last line. */
export function readSteps(path: string): StepLine[] {
  const byStep = new Map<number, StepLine>()
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue
    const entry = JSON.parse(line)
    if (typeof entry.step === 'number' && typeof entry.loss === 'number') byStep.set(entry.step, entry)
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step)
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

/** Largest difference of one metric between two curves over the same steps. */
export function curveDiff(a: StepLine[], b: StepLine[], key = 'loss'): number {
  expect(a.map((s) => s.step)).toEqual(b.map((s) => s.step))
  return maxAbsDiff(a.map((s) => s[key]!), b.map((s) => s[key]!))
}

/** Runs a Python snippet with python/ importable; its stdout. */
export function python(code: string): string {
  const run = spawnSync(PYTHON, ['-c', code], { cwd: PYTHON_DIR, env: PYTHON_ENV, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr || run.error?.message}`)
  return run.stdout
}

export const fileExists = existsSync
