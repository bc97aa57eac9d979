import { isNode } from './backend/dawn.js'

/**
 * Persisted autotuning winners: `$XDG_CACHE_HOME/tessera/matmul-tuning.json` (or
 * ~/.cache/...) in Node, keyed by adapter then shape class. Browsers keep tuning in memory
 * only. Node built-ins are imported lazily so this module bundles for browsers. A missing or
 * unreadable file is an empty cache: tuning is only ever a speed-up.
 */
type TuningFile = Record<string, Record<string, string>>

async function tuningPath(): Promise<string | null> {
  if (!isNode()) return null
  const [os, path] = await Promise.all([import('node:os'), import('node:path')])
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'tessera', 'matmul-tuning.json')
}

export async function loadTuningFile(): Promise<TuningFile> {
  const file = await tuningPath()
  if (!file) return {}
  try {
    const fs = await import('node:fs/promises')
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as unknown
    return parsed && typeof parsed === 'object' ? (parsed as TuningFile) : {}
  } catch {
    return {}
  }
}

export async function saveTuningFile(adapter: string, winners: Record<string, string>): Promise<void> {
  const file = await tuningPath()
  if (!file) return
  try {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')])
    const all = await loadTuningFile()
    all[adapter] = winners
    await fs.mkdir(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    await fs.writeFile(tmp, JSON.stringify(all, null, 2))
    await fs.rename(tmp, file)
  } catch {
    // A read-only home or a full disk only costs re-tuning next time.
  }
}
