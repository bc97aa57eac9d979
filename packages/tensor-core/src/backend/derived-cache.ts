import { byteSize } from '../dtype.js'
import type { Storage } from './backend.js'

/** What a `DerivedCache` holds and has done since it was made (or `resetStats`). */
export interface DerivedCacheStats {
  /** Derived storages held, and their bytes. */
  entries: number
  bytes: number
  /** The byte cap (0: nothing is kept). */
  capBytes: number
  /** Lookups answered from the cache. */
  hits: number
  /** Lookups that found nothing (or an entry of an older version): the caller derived anew. */
  misses: number
  /** Entries dropped because their source was written (a new version) or released. */
  invalidated: number
  /** Entries dropped to stay under the cap, least recently used first. */
  evicted: number
}

/**
 * Default byte cap: a packed weight takes about its weight's bytes (texture rows rounded up), so
 * this holds several models far larger than the ones trained here (the prior bench model's
 * packs: ~15 MiB).
 */
export const DEFAULT_PACK_CACHE_BYTES = 256 * 2 ** 20

interface Entry {
  source: Storage
  key: string
  /** The source's version the derived contents were computed from. */
  version: number
  derived: Storage
  bytes: number
}

/**
 * Storages computed from another storage's contents and kept for reuse, owned by a backend:
 * a matmul's packed B (`ops/matmul-variants.ts`) for a weight multiplied again and again with
 * nothing written to it in between (a decode step per generated token).
 *
 * An entry belongs to one version of its source. Every write of a storage's contents goes
 * through `written` (the backends call it for each output of `run` and the target of `write`,
 * so kernels, optimizer updates, `copyInto`, `assign` and weight loading all do): it bumps the
 * storage's `version` and frees what was derived from the old contents at once, so a stale
 * entry neither answers a lookup (which also compares versions) nor holds memory. Releasing the
 * source (its last tensor disposed) frees its entries too.
 *
 * Memory is bounded twice: callers only offer what is worth keeping (matmul offers packs of
 * parameters, never of activations or input batches, which are used once), and the bytes held
 * are capped, least recently used evicted first. A pack is about the size of its weight, so the
 * default cap holds every weight of the models this repo trains several times over.
 */
export class DerivedCache {
  private readonly bySource = new Map<Storage, Map<string, Entry>>()
  /** Entries, least recently used first (a Set keeps insertion order; a hit re-inserts). */
  private readonly lru = new Set<Entry>()
  private bytes = 0
  private hits = 0
  private misses = 0
  private invalidated = 0
  private evicted = 0

  constructor(
    /** Returns a derived storage to its backend's pool. */
    private readonly free: (s: Storage) => void,
    private cap: number,
  ) {}

  get capBytes(): number {
    return this.cap
  }

  /** A new cap; entries past it are evicted now. 0 turns the cache off. */
  set capBytes(bytes: number) {
    this.cap = Math.max(0, bytes)
    this.evictTo(this.cap)
  }

  /** What was derived from the current contents of `source` under `key`, if it is held. */
  get(source: Storage, key: string): Storage | undefined {
    const entry = this.bySource.get(source)?.get(key)
    if (!entry || entry.version !== source.version) {
      if (entry) {
        this.drop(entry)
        this.invalidated++
      }
      this.misses++
      return undefined
    }
    this.lru.delete(entry)
    this.lru.add(entry)
    this.hits++
    return entry.derived
  }

  /**
   * Offers `derived`, computed from the current contents of `source`, for later `get`s. True:
   * the cache owns it now (and frees it). False: it is larger than the cap, and the caller keeps
   * it (to release it as usual).
   */
  put(source: Storage, key: string, derived: Storage): boolean {
    const bytes = derived.size * byteSize(derived.dtype)
    if (bytes > this.cap) return false
    const existing = this.bySource.get(source)?.get(key)
    if (existing) this.drop(existing)
    this.evictTo(this.cap - bytes)
    const entry: Entry = { source, key, version: source.version, derived, bytes }
    let forSource = this.bySource.get(source)
    if (!forSource) this.bySource.set(source, (forSource = new Map()))
    forSource.set(key, entry)
    this.lru.add(entry)
    this.bytes += bytes
    return true
  }

  /**
   * `storage`'s contents are about to change (a kernel writes it, or host data is copied in):
   * the one place its version is bumped, and what was derived from it is freed.
   */
  written(storage: Storage): void {
    storage.version++
    if (this.bySource.size !== 0) this.dropAll(storage)
  }

  /** `storage` goes back to the pool: what was derived from it is freed. */
  released(storage: Storage): void {
    if (this.bySource.size !== 0) this.dropAll(storage)
  }

  /** Frees every entry. */
  clear(): void {
    for (const entry of [...this.lru]) this.drop(entry)
  }

  stats(): DerivedCacheStats {
    return { entries: this.lru.size, bytes: this.bytes, capBytes: this.cap, hits: this.hits, misses: this.misses, invalidated: this.invalidated, evicted: this.evicted }
  }

  resetStats(): void {
    this.hits = this.misses = this.invalidated = this.evicted = 0
  }

  private dropAll(source: Storage): void {
    const forSource = this.bySource.get(source)
    if (!forSource) return
    for (const entry of [...forSource.values()]) {
      this.drop(entry)
      this.invalidated++
    }
  }

  private evictTo(bytes: number): void {
    for (const oldest of this.lru) {
      if (this.bytes <= bytes) break
      this.drop(oldest)
      this.evicted++
    }
  }

  private drop(entry: Entry): void {
    const forSource = this.bySource.get(entry.source)!
    forSource.delete(entry.key)
    if (forSource.size === 0) this.bySource.delete(entry.source)
    this.lru.delete(entry)
    this.bytes -= entry.bytes
    this.free(entry.derived)
  }
}
