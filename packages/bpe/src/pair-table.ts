/**
 * Open-addressing hash table from a pair of token ids to (rank, merged id).
 *
 * The encode hot loop looks up every adjacent pair of every new word; a JS Map keyed by
 * `left * 65536 + right` leaves the small-integer range for vocabularies above 32k ids and
 * allocates heap numbers, so the pair is hashed into typed arrays instead.
 */
export class PairTable {
  private lefts: Int32Array
  private rights: Int32Array
  private ranks: Int32Array
  private results: Int32Array
  private mask: number
  private count = 0

  constructor(expected = 1024) {
    let cap = 16
    while (cap < expected * 2) cap *= 2
    this.lefts = new Int32Array(cap).fill(-1)
    this.rights = new Int32Array(cap)
    this.ranks = new Int32Array(cap)
    this.results = new Int32Array(cap)
    this.mask = cap - 1
  }

  get size(): number {
    return this.count
  }

  private slotOf(left: number, right: number): number {
    let h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77)
    h ^= h >>> 15
    let slot = h & this.mask
    const lefts = this.lefts
    for (;;) {
      const l = lefts[slot]!
      if (l === -1 || (l === left && this.rights[slot] === right)) return slot
      slot = (slot + 1) & this.mask
    }
  }

  /**
   * Registers `left right -> result` at `rank`. If the pair is already present the higher rank
   * wins: in a merges file with a duplicated line the last occurrence counts, as in GPT-2's and
   * CLIP's Python (`dict(zip(merges, range(n)))`) and HuggingFace tokenizers (a HashMap collect).
   */
  set(left: number, right: number, rank: number, result: number): void {
    const slot = this.slotOf(left, right)
    if (this.lefts[slot] !== -1) {
      if (rank > this.ranks[slot]!) {
        this.ranks[slot] = rank
        this.results[slot] = result
      }
      return
    }
    this.lefts[slot] = left
    this.rights[slot] = right
    this.ranks[slot] = rank
    this.results[slot] = result
    if (++this.count * 2 > this.mask) this.grow()
  }

  /** Rank of the pair, or -1 if the pair never merges. */
  rank(left: number, right: number): number {
    const slot = this.slotOf(left, right)
    return this.lefts[slot] === -1 ? -1 : this.ranks[slot]!
  }

  /** Merged id of the pair, or -1. */
  result(left: number, right: number): number {
    const slot = this.slotOf(left, right)
    return this.lefts[slot] === -1 ? -1 : this.results[slot]!
  }

  private grow(): void {
    const { lefts, rights, ranks, results } = this
    const cap = lefts.length * 2
    this.lefts = new Int32Array(cap).fill(-1)
    this.rights = new Int32Array(cap)
    this.ranks = new Int32Array(cap)
    this.results = new Int32Array(cap)
    this.mask = cap - 1
    for (let i = 0; i < lefts.length; i++) {
      if (lefts[i] === -1) continue
      const slot = this.slotOf(lefts[i]!, rights[i]!)
      this.lefts[slot] = lefts[i]!
      this.rights[slot] = rights[i]!
      this.ranks[slot] = ranks[i]!
      this.results[slot] = results[i]!
    }
  }
}
