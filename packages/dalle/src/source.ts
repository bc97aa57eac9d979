import { BundleSourceError } from './errors.js'

/**
 * Where a bundle's files come from: a directory (Node), a base URL (fetch: browsers, or Node
 * for http), or a map of names to `File`s / `Blob`s / bytes (a browser's file picker).
 * `read` resolves to null when the file is not there, so callers can say which component lacks it.
 */
export interface BundleSource {
  /** Said in error messages: the directory, URL or "the given files". */
  readonly description: string
  read(path: string): Promise<Uint8Array | null>
}

/** A bundle directory on disk (Node). */
export function directorySource(dir: string | URL): BundleSource {
  const root = typeof dir === 'string' ? dir : new URL(dir.href.endsWith('/') ? dir.href : `${dir.href}/`)
  return {
    description: typeof root === 'string' ? root : decodeURIComponent(root.pathname),
    async read(path) {
      const { readFile } = await import('node:fs/promises')
      const { join } = await import('node:path')
      try {
        const buf = await readFile(typeof root === 'string' ? join(root, path) : new URL(path, root))
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw new BundleSourceError(path, typeof root === 'string' ? root : decodeURIComponent(root.pathname), (error as Error).message, error)
      }
    },
  }
}

/** A bundle served at a base URL (trailing slash added); a 404 is a missing file. */
export function urlSource(base: string | URL, fetchImpl: typeof fetch = globalThis.fetch): BundleSource {
  const root = new URL(base.toString().endsWith('/') ? base.toString() : `${base.toString()}/`)
  return {
    description: root.href,
    async read(path) {
      let response: Response
      try {
        response = await fetchImpl(new URL(path, root))
      } catch (error) {
        throw new BundleSourceError(path, root.href, `GET failed: ${(error as Error).message}`, error)
      }
      if (response.status === 404) return null
      if (!response.ok) throw new BundleSourceError(path, root.href, `GET ${new URL(path, root).href}: HTTP ${response.status}`)
      return new Uint8Array(await response.arrayBuffer())
    },
  }
}

export type BundleFiles = Map<string, Blob | Uint8Array> | Record<string, Blob | Uint8Array>

/**
 * Files given by name, relative to the bundle root ('manifest.json', 'prior/prior.safetensors').
 * A browser's directory picker gives `webkitRelativePath`s with the folder's name in front: the
 * common leading folder is dropped.
 */
export function fileMapSource(files: BundleFiles): BundleSource {
  const entries = files instanceof Map ? [...files] : Object.entries(files)
  const names = entries.map(([name]) => name.replace(/^\.?\//, ''))
  const first = names[0]?.split('/')[0]
  const strip = !names.includes('manifest.json') && first !== undefined && names.every((n) => n.startsWith(`${first}/`))
  const byName = new Map(entries.map(([, file], i) => [strip ? names[i]!.slice(first!.length + 1) : names[i]!, file]))
  return {
    description: 'the given files',
    async read(path) {
      const file = byName.get(path)
      if (file === undefined) return null
      return file instanceof Uint8Array ? file : new Uint8Array(await file.arrayBuffer())
    },
  }
}
