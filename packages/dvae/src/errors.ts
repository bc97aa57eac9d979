import { TesseraError } from '@tessera/tensor-core'

/** A dVAE configuration that cannot build a model; the message names the field and the rule. */
export class DvaeConfigError extends TesseraError {}

/** Images or tokens whose shape, dtype or values do not fit the model. */
export class DvaeInputError extends TesseraError {}

/** A weights file or directory that cannot be loaded into the model. */
export class DvaeWeightsError extends TesseraError {}

/**
 * Training that cannot go on (a non-finite loss); the message says what to change. The loop
 * that throws it is tensor-core's Trainer, shared by every model: this is its TrainingError.
 */
export { TrainingError as DvaeTrainingError } from '@tessera/tensor-core'
