import { ops, type Tensor } from '@tessera/tensor-core'
import { DvaeInputError } from '../errors.js'

/**
 * Mean negative log-likelihood of the logit-Laplace distribution (DALL·E paper, appendix),
 * per sub-pixel. For x in (0, 1), with μ and b = exp(log b) predicted per channel:
 *   log p(x | μ, b) = −log(2b·x(1−x)) − |logit(x) − μ| / b
 * `stats` is the decoder output [N, 2C, H, W] (μ channels first, then log b); `target`
 * holds mapped pixels in (ε, 1−ε), [N, C, H, W].
 */
export function logitLaplaceNll(stats: Tensor, target: Tensor): Tensor {
  const channels = target.shape[1]!
  checkStats(stats, target, 'logitLaplaceNll')
  const mu = ops.slice(stats, [undefined, { start: 0, end: channels }])
  const logB = ops.slice(stats, [undefined, { start: channels, end: 2 * channels }])
  const logX = ops.log(target)
  const log1mX = ops.log(ops.sub(1, target))
  const logitX = ops.sub(logX, log1mX)
  const scaledError = ops.mul(ops.abs(ops.sub(logitX, mu)), ops.exp(ops.neg(logB)))
  const logNormaliser = ops.add(ops.add(logB, Math.LN2), ops.add(logX, log1mX))
  return ops.mean(ops.add(logNormaliser, scaledError))
}

/** Mean squared error between sigmoid(μ) and the mapped target: the simpler alternative to logit-Laplace. */
export function sigmoidMse(stats: Tensor, target: Tensor): Tensor {
  const channels = target.shape[1]!
  checkStats(stats, target, 'sigmoidMse')
  return ops.mean(ops.square(ops.sub(ops.sigmoid(ops.slice(stats, [undefined, { start: 0, end: channels }])), target)))
}

function checkStats(stats: Tensor, target: Tensor, what: string): void {
  const [n, c, h, w] = target.shape
  if (target.rank !== 4 || stats.rank !== 4 || stats.shape[0] !== n || stats.shape[1] !== 2 * c! || stats.shape[2] !== h || stats.shape[3] !== w) {
    throw new DvaeInputError(`${what}: decoder output [${stats.shape.join(', ')}] does not pair with target [${target.shape.join(', ')}] (expected [N, 2C, H, W])`)
  }
}

/**
 * KL(q ‖ uniform) of the code distributions q = softmax(logits), mean over positions, in
 * nats: Σ q log q + log V. `logits` are channels-last [..., vocab].
 *
 * Like every function of this module it builds on the autograd tape and disposes nothing:
 * intermediates must live until backward(), so the caller's tidy() frees them afterwards.
 */
export function klToUniform(logits: Tensor): Tensor {
  const vocab = logits.shape[logits.rank - 1]!
  const logQ = ops.logSoftmax(logits)
  const negEntropy = ops.sum(ops.mul(ops.exp(logQ), logQ), -1)
  return ops.add(ops.mean(negEntropy), Math.log(vocab))
}

/**
 * The gumbel-softmax relaxation softmax((logits + g) / τ) over the last axis, with the
 * Gumbel noise `g` passed in (drawn from the device stream in training; a fixed tensor in
 * parity tests, so both sides see the same sample).
 */
export function relaxedCodes(logits: Tensor, gumbelNoise: Tensor, tau: number): Tensor {
  if (!(tau > 0)) throw new DvaeInputError(`gumbel-softmax temperature must be > 0, got ${tau}`)
  return ops.softmax(ops.mul(ops.add(logits, gumbelNoise), 1 / tau))
}

/**
 * Straight-through argmax codes: the forward value is exactly the one-hot of argmax(logits),
 * the codes `encode()` picks at inference, and the gradient is that of softmax(logits / τ)
 * (Bengio et al. 2013; the "hard" gumbel-softmax without the noise). Used to fine-tune a
 * trained dVAE so that training decodes the very codes inference will.
 */
export function straightThroughCodes(logits: Tensor, tau: number): Tensor {
  if (!(tau > 0)) throw new DvaeInputError(`straight-through temperature must be > 0, got ${tau}`)
  const soft = ops.softmax(ops.mul(logits, 1 / tau))
  // The argmax of the logits, not of soft: exactly encode()'s choice even where softmax saturates.
  return ops.straightThrough(ops.oneHot(ops.argmax(logits, -1), logits.shape[logits.rank - 1]!), soft)
}
