import { ops, type Tensor } from '@tessera/tensor-core'
import type { DiscreteVAE } from '../dvae.js'
import { klToUniform, logitLaplaceNll, relaxedCodes, sigmoidMse, straightThroughCodes } from './loss.js'

/** How the decoder's input is formed from the encoder's logits during training. */
export type CodeRelaxation = 'gumbel' | 'straight-through'

export interface ObjectiveOptions {
  /** Temperature of the relaxation's softmax. */
  tau: number
  /**
   * 'gumbel' (default, the paper's): gumbel-softmax samples. 'straight-through': the hard
   * argmax codes forward, softmax(logits/τ)'s gradient backward (no noise).
   */
  codes?: CodeRelaxation
  /** Weight β of the KL-to-uniform term. */
  klWeight: number
  loss: 'logit-laplace' | 'mse'
  /** Gumbel noise [N, h, w, vocab]; drawn from the device's random stream when omitted. */
  gumbelNoise?: Tensor
}

export interface Objective {
  loss: Tensor
  recon: Tensor
  kl: Tensor
  /** Code logits, channels-last [N, h, w, vocab]. */
  logits: Tensor
}

/**
 * The training objective on a batch of mapped images: reconstruction of the relaxed (or
 * straight-through) codes' decoding plus β·KL(q ‖ uniform). Both terms are per sub-pixel
 * (the KL of an image's h·w tokens is spread over its C·H·W values), so β means the same at
 * every image size.
 * Call it inside the caller's tidy(): the graph's intermediates must live until backward().
 */
export function dvaeObjective(model: DiscreteVAE, target: Tensor, opts: ObjectiveOptions): Objective {
  const logits = ops.permute(model.encoder.forward(target), [0, 2, 3, 1])
  const codes =
    opts.codes === 'straight-through'
      ? straightThroughCodes(logits, opts.tau)
      : relaxedCodes(logits, opts.gumbelNoise ?? ops.randomGumbel(model.device, logits.shape), opts.tau)
  const stats = model.decoder.forward(codes)
  const recon = opts.loss === 'mse' ? sigmoidMse(stats, target) : logitLaplaceNll(stats, target)
  const kl = klToUniform(logits)
  const klScale = (logits.shape[1]! * logits.shape[2]!) / (target.shape[1]! * target.shape[2]! * target.shape[3]!)
  return { loss: ops.add(recon, ops.mul(kl, opts.klWeight * klScale)), recon, kl, logits }
}
