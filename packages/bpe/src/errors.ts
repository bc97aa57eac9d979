/** Base class so callers can catch every tokenizer error with one `instanceof`. */
export class BpeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** A vocabulary, merges, rank or JSON file is malformed or inconsistent. */
export class BpeFormatError extends BpeError {}

/**
 * A text does not fit the requested context length and `truncate` was false
 * (openai/CLIP raises a RuntimeError in the same situation).
 */
export class ContextLengthExceededError extends BpeError {
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
  constructor(readonly id: number) {
    super(`Token id ${id} is not in the vocabulary`)
  }
}

/** The merges of the CLIP vocabulary could not be found (package missing, no file given). */
export class VocabularyNotFoundError extends BpeError {}
