import { TesseraError } from '@tessera/tensor-core'

/** The components a bundle can hold; `manifest` is the bundle's own manifest.json. */
export type ComponentName = 'manifest' | 'textTokenizer' | 'dvae' | 'prior' | 'clip'

/** Base class of the bundle errors: `component` names the part that is at fault. */
export class BundleError extends TesseraError {
  static override readonly code: string = 'bundle'
  constructor(
    readonly component: ComponentName,
    message: string,
  ) {
    super(message)
  }
}

/** manifest.json is absent, not JSON, of another format or version, or lacks a required entry. */
export class BundleFormatError extends BundleError {
  static override readonly code: string = 'bundle_format'
  constructor(message: string) {
    super('manifest', message)
  }
}

/** No manifest.json where a bundle was expected (a wrong path, or no bundle made yet). */
export class BundleNotFoundError extends BundleFormatError {
  static override readonly code: string = 'bundle_not_found'
  constructor(readonly where: string) {
    super(`no model bundle at ${where} (it has no manifest.json)`)
  }
}

/** A component's file is not in the bundle. */
export class MissingComponentError extends BundleError {
  static override readonly code: string = 'missing_component'
  constructor(
    component: ComponentName,
    readonly file: string,
    where: string,
  ) {
    super(component, `the ${component} component's file ${file} is missing from ${where}`)
  }
}

/** A component's file is there but unreadable (not safetensors, truncated, not JSON) or does not fit its config. */
export class CorruptComponentError extends BundleError {
  static override readonly code: string = 'corrupt_component'
  constructor(
    component: ComponentName,
    readonly file: string,
    detail: string,
  ) {
    super(component, `the ${component} component's ${file} is corrupt: ${detail}`)
  }
}

/** Two components that cannot work together (vocabularies, grid sizes, pad token). */
export class ComponentMismatchError extends BundleError {
  static override readonly code: string = 'component_mismatch'
  constructor(
    component: ComponentName,
    readonly other: ComponentName,
    detail: string,
  ) {
    super(component, `the ${component} does not fit the ${other}: ${detail}`)
  }
}

/** A prompt with more tokens than the prior takes (pass `truncate` to cut it). */
export class PromptTooLongError extends TesseraError {
  static override readonly code: string = 'prompt_too_long'
  constructor(
    readonly tokens: number,
    readonly limit: number,
  ) {
    super(`the prompt is ${tokens} tokens; this model takes at most ${limit} (shorten it, or pass truncate: true)`)
  }
}

/** A bundle file that is there but cannot be read: an I/O error, an HTTP error other than 404, a failed fetch. */
export class BundleSourceError extends TesseraError {
  static override readonly code: string = 'bundle_source'
  constructor(
    readonly file: string,
    readonly where: string,
    detail: string,
    cause?: unknown,
  ) {
    super(`cannot read ${file} from ${where}: ${detail}`, { cause })
  }
}

/** Options of generate() that cannot work: counts, image prompts, regions. */
export class DalleInputError extends TesseraError {
  static override readonly code: string = 'dalle_input'
}
