import type { MaskSpec } from '@tessera/plugins'
import { Prior, PriorTrainer, savePrior, type PriorConfig, type PriorEvalMetrics, type PriorStepMetrics, type PriorTrainOptions } from '@tessera/prior'
import { Device } from '@tessera/tensor-core'
import { copyFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { formatDataSpec, parseDataSpec } from '../data/sources.js'
import { loadPriorData } from './prior-data.js'
import { runDirs, runTraining, windowMean, type RunFlags } from './run.js'

export interface PriorFlags extends RunFlags {
  data: string
  dvae: string
  tokenizer?: string
  width: number
  heads: number
  layers: number
  masks: string | MaskSpec[]
  textLength: number
  batch: number
  lr: number
  warmup: number
  weightDecay: number
  gradClip: number
  bpeDropout: number
  nullCaption: number
  seed: number
  backend: 'auto' | 'webgpu' | 'cpu'
}

/**
 * tessera train prior: the transformer prior on caption + image-token pairs (the images encoded
 * by the dVAE once), with BPE-dropout and null captions for guidance; writes a prior directory
 * (prior.safetensors + manifest.json with recipe, segments and held-out losses, tokenizer.json
 * beside), which tessera bundle assembles. Resumes the checkpoints train-prior.mjs wrote: the
 * same sizes and recipe flags build the same trainer.
 */
export async function trainPriorCommand(flags: PriorFlags): Promise<void> {
  const spec = parseDataSpec(flags.data, { tokens: true })
  const { out, checkpoints } = runDirs(flags)
  const device = await Device.create({ backend: flags.backend, seed: flags.seed })
  try {
    const data = await loadPriorData(device, spec, { dvae: flags.dvae, tokenizer: flags.tokenizer, checkpoints, seed: flags.seed })
    const config: PriorConfig = {
      textVocabSize: data.tokenizer.vocabSize,
      imageVocabSize: data.dvae.config.vocabSize,
      textLength: flags.textLength,
      gridSize: data.gridSize,
      width: flags.width,
      heads: flags.heads,
      layers: flags.layers,
      masks: flags.masks,
      padId: data.padId,
      seed: flags.seed,
    }
    const prior = new Prior(device, config)
    const recipe: PriorTrainOptions = {
      steps: flags.steps,
      batchSize: flags.batch,
      lr: flags.lr,
      warmupSteps: flags.warmup,
      weightDecay: flags.weightDecay,
      gradClip: flags.gradClip,
      bpeDropout: flags.bpeDropout,
      nullCaptionProb: flags.nullCaption,
      dataSeed: flags.seed,
    }
    const trainer = new PriorTrainer(prior, data.train, data.tokenizer, recipe)
    try {
      const run = await runTraining<PriorStepMetrics, PriorEvalMetrics>(
        device,
        flags,
        trainer,
        (loop) => trainer.run({ ...loop, evalSet: data.heldOut }),
        {
          header: `${device.kind} (${device.adapter.description || device.adapter.architecture}); prior ${prior.parameterCount()} parameters; ${data.train.length} train / ${data.heldOut.length} held-out pairs; ${JSON.stringify(prior.config)}`,
          steps: (window) => {
            const m = windowMean(window, ['loss', 'textCe', 'imageCe', 'ms'])
            return `step ${m.step + 1}: loss ${m.loss.toFixed(4)} text ${m.textCe.toFixed(3)} image ${m.imageCe.toFixed(3)} lr ${m.lr.toExponential(2)} ${m.ms.toFixed(0)} ms/step`
          },
          status: (m) => `loss ${m.loss.toFixed(3)}, image ${m.imageCe.toFixed(3)}`,
          evaluation: (m) => `eval @${m.step}: held-out text ${m.textCe.toFixed(3)} image ${m.imageCe.toFixed(3)} (perplexity ${m.imagePerplexity.toFixed(1)} of ${config.imageVocabSize}) over ${m.pairs} pairs`,
        },
      )
      if (!run.finished) return
      const { segments, last } = run
      await savePrior(prior, out, {
        training: {
          trainer: 'Tessera PriorTrainer (@tessera/prior)',
          recipe,
          steps: trainer.step,
          // Every segment that trained this checkpoint (segments.json); an export adds none of its own.
          segments: segments.segments,
          wallSeconds: segments.wallSeconds,
          ...(flags.export && { exportedWith: run.command }),
          machine: run.machine,
          data: { source: formatDataSpec(spec), description: data.description, dvae: data.dvae.ref, train: data.train.length, heldOut: data.heldOut.length },
          heldOut: last,
        },
      })
      // Beside the weights, where tessera bundle looks for it (unless it is already there).
      if (resolve(data.tokenizerPath) !== join(out, 'tokenizer.json')) await copyFile(data.tokenizerPath, join(out, 'tokenizer.json'))
      console.log(`wrote ${out} (step ${trainer.step}): held-out ${JSON.stringify(last)}`)
    } finally {
      trainer.dispose()
      prior.dispose()
    }
  } finally {
    device.destroy()
  }
}
