import { ops, type Device, type Tensor, InvalidArgumentError } from '@tessera/tensor-core'
import type { CLIP } from '../clip.js'
import { similarityLogits } from '../clip.js'

/**
 * Symmetric InfoNCE over a batch's logits per image [N, N] (pair i is image i with text i):
 * the mean of the cross-entropies of rows (image → texts) and of columns (text → images).
 */
export function contrastiveLoss(logitsPerImage: Tensor): Tensor {
  const n = logitsPerImage.shape[0]!
  if (logitsPerImage.rank !== 2 || logitsPerImage.shape[1] !== n) throw new InvalidArgumentError(`contrastiveLoss takes square logits [N, N], got [${logitsPerImage.shape.join(', ')}]`)
  const labels = ops.arange(logitsPerImage.device as Device, n)
  const perImage = ops.crossEntropy(logitsPerImage, labels)
  const perText = ops.crossEntropy(ops.transpose(logitsPerImage), labels)
  return ops.mul(ops.add(perImage, perText), 0.5)
}

/** A training objective's outputs: the loss and the logits it came from. */
export interface ClipObjective {
  loss: Tensor
  logitsPerImage: Tensor
}

/** Forward of a batch (normalised images [N, 3, R, R], token rows [N, L]) through both towers and the loss. */
export function clipObjective(model: CLIP, images: Tensor, tokens: Tensor): ClipObjective {
  const logitsPerImage = similarityLogits(model.encodeImage(images), model.encodeText(tokens), model.logitScale)
  return { loss: contrastiveLoss(logitsPerImage), logitsPerImage }
}
