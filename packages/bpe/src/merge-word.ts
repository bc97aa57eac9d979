import type { PairTable } from './pair-table.js'
import type { Random } from './rng.js'

/*
 * Applies BPE merges to one pre-token ("word") given as base symbol ids.
 * Rule (GPT-2, CLIP, tiktoken alike): repeatedly merge the adjacent pair with the lowest rank,
 * leftmost first on ties, until no adjacent pair has a rank.
 */

/** Below this many symbols a linear scan per merge beats maintaining a heap. */
const LINEAR_LIMIT = 48

let pairRanks = new Int32Array(256)
const NO_RANK = 0x7fffffff

/**
 * Merges `symbols[0..n)` in place and returns the new length. Short words use the linear
 * scan (as tiktoken does); long ones a min-heap over a linked list, so a pathological 100 kB
 * pre-token costs O(n log n) instead of O(n^2).
 */
export function mergeWord(symbols: Int32Array, n: number, table: PairTable): number {
  if (n < 2) return n
  if (n > LINEAR_LIMIT) return mergeWithHeap(symbols, n, table, 0, null)
  if (pairRanks.length < n) pairRanks = new Int32Array(n * 2)
  const ranks = pairRanks
  for (let i = 0; i < n - 1; i++) {
    const r = table.rank(symbols[i]!, symbols[i + 1]!)
    ranks[i] = r < 0 ? NO_RANK : r
  }
  while (n > 1) {
    let best = NO_RANK
    let at = -1
    for (let i = 0; i < n - 1; i++) {
      if (ranks[i]! < best) {
        best = ranks[i]!
        at = i
      }
    }
    if (at < 0) break
    symbols[at] = table.result(symbols[at]!, symbols[at + 1]!)
    symbols.copyWithin(at + 1, at + 2, n)
    ranks.copyWithin(at + 1, at + 2, n - 1)
    n--
    if (at < n - 1) {
      const r = table.rank(symbols[at]!, symbols[at + 1]!)
      ranks[at] = r < 0 ? NO_RANK : r
    }
    if (at > 0) {
      const r = table.rank(symbols[at - 1]!, symbols[at]!)
      ranks[at - 1] = r < 0 ? NO_RANK : r
    }
  }
  return n
}

/**
 * Heap-based merge, also used for BPE-dropout (Provilkov et al. 2020, as in HuggingFace
 * tokenizers): each time the best merge is about to be applied it is skipped with probability
 * `dropout`; skipped merges return to the queue after the next applied merge, and the word is
 * final once every remaining candidate has been skipped.
 */
export function mergeWithHeap(
  symbols: Int32Array,
  n: number,
  table: PairTable,
  dropout: number,
  random: Random | null,
): number {
  if (n < 2) return n
  const next = new Int32Array(n)
  const prev = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1
    prev[i] = i - 1
  }
  // Heap entries pack (rank, position) into one exact double so ties break leftmost.
  let scale = 1
  while (scale <= n) scale *= 2
  const heap: number[] = []
  const push = (key: number): void => {
    let i = heap.length
    heap.push(key)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heap[p]! <= key) break
      heap[i] = heap[p]!
      i = p
    }
    heap[i] = key
  }
  const pop = (): number => {
    const top = heap[0]!
    const last = heap.pop()!
    const len = heap.length
    if (len > 0) {
      let i = 0
      for (;;) {
        let c = 2 * i + 1
        if (c >= len) break
        if (c + 1 < len && heap[c + 1]! < heap[c]!) c++
        if (heap[c]! >= last) break
        heap[i] = heap[c]!
        i = c
      }
      heap[i] = last
    }
    return top
  }
  const offer = (pos: number): void => {
    const nx = next[pos]!
    if (nx < 0) return
    const r = table.rank(symbols[pos]!, symbols[nx]!)
    if (r >= 0) push(r * scale + pos)
  }
  for (let i = 0; i < n - 1; i++) offer(i)

  const skipped: number[] = []
  const alive = new Uint8Array(n).fill(1)
  while (heap.length > 0) {
    const key = pop()
    const pos = key % scale
    const rank = (key - pos) / scale
    const nx = next[pos]!
    // Stale entry: the symbol was absorbed, or its right neighbour changed since it was queued.
    if (!alive[pos] || nx < 0 || table.rank(symbols[pos]!, symbols[nx]!) !== rank) continue
    if (dropout > 0 && random!() < dropout) {
      skipped.push(key)
      continue
    }
    symbols[pos] = table.result(symbols[pos]!, symbols[nx]!)
    alive[nx] = 0
    const after = next[nx]!
    next[pos] = after
    if (after >= 0) prev[after] = pos
    for (const k of skipped) push(k)
    skipped.length = 0
    offer(pos)
    if (prev[pos]! >= 0) offer(prev[pos]!)
  }
  // Compact the surviving symbols to the front.
  let out = 0
  for (let i = 0; i >= 0; i = next[i]!) symbols[out++] = symbols[i]!
  return out
}
