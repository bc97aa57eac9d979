import { TesseraError } from '@tessera/tensor-core'

/** A dVAE configuration that cannot build a model; the message names the field and the rule. */
export class DvaeConfigError extends TesseraError {
  static override readonly code: string = 'dvae_config'
}

/** Images or tokens whose shape, dtype or values do not fit the model. */
export class DvaeInputError extends TesseraError {
  static override readonly code: string = 'dvae_input'
}

/** A weights file or directory that cannot be loaded into the model. */
export class DvaeWeightsError extends TesseraError {
  static override readonly code: string = 'dvae_weights'
}

/**
 * Training that cannot go on (a non-finite loss); the message says what to change. The loop
 * that throws it is tensor-core's Trainer, shared by every model: this is its TrainingError.
 */
export { TrainingError as DvaeTrainingError } from '@tessera/tensor-core'
