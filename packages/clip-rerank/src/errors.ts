import { TesseraError } from '@tessera/tensor-core'

/** A CLIP configuration that cannot build a model; the message names the field and the rule. */
export class ClipConfigError extends TesseraError {
  static override readonly code: string = 'clip_config'
}

/** Images or tokens whose shape, dtype or values do not fit the model. */
export class ClipInputError extends TesseraError {
  static override readonly code: string = 'clip_input'
}

/** A weights file or directory that cannot be loaded into the model. */
export class ClipWeightsError extends TesseraError {
  static override readonly code: string = 'clip_weights'
}

/** Training that cannot go on (a non-finite loss); the message says what to change. */
export class ClipTrainingError extends TesseraError {
  static override readonly code: string = 'clip_training'
}
