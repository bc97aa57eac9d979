import { TesseraError } from '@tessera/tensor-core'

/** A prior configuration that cannot be built (sizes, masks, loss weights). */
export class PriorConfigError extends TesseraError {
  static override readonly code: string = 'prior_config'
}

/** Inputs that do not fit the prior: wrong shapes or dtypes, ids outside the vocabularies. */
export class PriorInputError extends TesseraError {
  static override readonly code: string = 'prior_input'
}

/** Training that cannot continue: a non-finite loss, a checkpoint of another model. */
export class PriorTrainingError extends TesseraError {
  static override readonly code: string = 'prior_training'
}
