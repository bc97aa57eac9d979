// The model every prior bench script measures (the issue's: 4 layers, width 256, 16 text + 64
// image tokens) and one training step as PriorTrainer takes it, so the scripts time the same work.
import { optim, tidy } from '@tessera/tensor-core'

export const BENCH_CONFIG = Object.freeze({ textVocabSize: 1024, imageVocabSize: 512, textLength: 16, gridSize: [8, 8], width: 256, heads: 4, layers: 4, masks: 'dalle', ffMult: 4, padId: 0, textLossWeight: 1, imageLossWeight: 7, dropout: 0, seed: 0 })

/** `n` deterministic ids below `vocab`, different per `seed`: stand-in tokens for timing. */
export const ids = (n, vocab, seed = 0) => Int32Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % vocab)

/** One AdamW step on the prior's loss for the (text, image) batch, gradients clipped to norm 1; resolves when its loss is read. */
export async function trainingStep(prior, opt, text, image) {
  const loss = tidy(() => {
    const { loss } = prior.losses(text, image)
    loss.backward()
    optim.clipGradNorm(prior.parameters(), 1)?.dispose()
    opt.step()
    opt.zeroGrad()
    return loss
  })
  await loss.read()
  loss.dispose()
}
