/**
 * Crash-safe file replacement for Node. `node:fs` and `node:path` are imported
 * lazily so that browser bundles that include this module never touch them.
 */

/** Bytes to write: one buffer, or chunks produced (possibly slowly) one at a time. */
export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** Temp names look like `.checkpoint.safetensors.tmp-<pid>-<hex>`; the pid lets cleanStaleTemps tell dead writers. */
const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]+$/

function tempNameFor(fileName: string): string {
  const random = crypto.getRandomValues(new Uint8Array(6))
  const hex = Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')
  return `.${fileName}.tmp-${process.pid}-${hex}`
}

/**
 * Write `data` to a fresh temp file next to `path` and fsync it. Returns the
 * temp path; on failure the temp file is removed and the error rethrown.
 */
export async function writeTempFile(path: string, data: ByteSource): Promise<string> {
  const fs = await import('node:fs/promises')
  const { basename, dirname, join } = await import('node:path')
  const tempPath = join(dirname(path), tempNameFor(basename(path)))
  const handle = await fs.open(tempPath, 'wx') // exclusive: never clobber someone else's temp
  try {
    for await (const chunk of chunksOf(data)) {
      let written = 0
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written)
        written += bytesWritten
      }
    }
    await handle.sync()
    await handle.close()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await fs.rm(tempPath, { force: true })
    throw error
  }
  return tempPath
}

async function* chunksOf(data: ByteSource): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) yield data
  else yield* data
}

/**
 * Make renames in `dir` durable. Some platforms (Windows, some network file
 * systems) cannot fsync a directory; there the rename is as durable as it gets.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fs = await import('node:fs/promises')
  let handle
  try {
    handle = await fs.open(dir, 'r')
    await handle.sync()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw error
  } finally {
    await handle?.close()
  }
}

/**
 * Replace `path` with `data` so that readers (and a crash at any point) see
 * either the old file or the complete new one, never a partial one:
 * write a temp file in the same directory, fsync it, rename it over `path`,
 * fsync the directory. On error the temp file is removed and `path` untouched.
 */
export async function writeFileAtomic(path: string, data: ByteSource): Promise<void> {
  const fs = await import('node:fs/promises')
  const { dirname } = await import('node:path')
  const tempPath = await writeTempFile(path, data)
  try {
    await fs.rename(tempPath, path)
  } catch (error) {
    await fs.rm(tempPath, { force: true })
    throw error
  }
  await fsyncDirectory(dirname(path))
}

/**
 * Remove temp files in `dir` left by writers that died mid-write (their pid is
 * no longer running). Temps of live writers are left alone. Returns the names
 * removed. Readers never look at temp names, so this is only housekeeping.
 */
export async function cleanStaleTemps(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises')
  const { join } = await import('node:path')
  const removed: string[] = []
  for (const name of await fs.readdir(dir)) {
    const match = TEMP_NAME.exec(name)
    if (match === null || isProcessAlive(Number(match[1]))) continue
    await fs.rm(join(dir, name), { force: true })
    removed.push(name)
  }
  return removed
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0) // signal 0: existence check only
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}
