import { DiscreteVAE, DvaeTrainer, formatEval, formatStep, loadDvae, preset, saveDvae, type DvaeConfig, type EvalMetrics, type StepMetrics, type TrainOptions } from '@tessera/dvae'
import { Device } from '@tessera/tensor-core'
import { formatDataSpec, loadImageSplits, parseDataSpec } from '../data/sources.js'
import { UserError } from '../fail.js'
import { componentDir } from '../paths.js'
import { runDirs, runTraining, windowMean, type RunFlags } from './run.js'

export interface DvaeFlags extends RunFlags {
  data: string
  preset: string
  config?: Partial<DvaeConfig>
  init?: string
  batch: number
  seed: number
  lr: number
  gradClip: number
  klWeight: number
  klWarmup: number
  tauStart: number
  tauEnd: number
  tauSteps?: number
  codes: 'gumbel' | 'straight-through'
  loss: 'logit-laplace' | 'mse'
  backend: 'auto' | 'webgpu' | 'cpu'
}

/**
 * tessera train dvae: a discrete VAE on the images of --data (gumbel-softmax with an annealed
 * temperature, KL to uniform, logit-Laplace or MSE reconstruction), evaluated by held-out PSNR,
 * written as a dVAE directory (encoder/decoder safetensors + manifest.json with recipe, metrics
 * and how it was trained).
 */
export async function trainDvaeCommand(flags: DvaeFlags): Promise<void> {
  const spec = parseDataSpec(flags.data)
  const { out } = runDirs(flags)
  if (flags.init && flags.config) throw new UserError('--init takes the config of the model it loads: drop --config')
  const device = await Device.create({ backend: flags.backend, seed: flags.seed })
  try {
    // --init starts from a trained model's weights and config (fine-tuning, e.g. with
    // straight-through codes after a gumbel run); its manifest is kept in the new one.
    const init = flags.init ? componentDir(flags.init, 'dvae', '--init') : null
    const initial = init ? await loadDvae(device, init.dir) : null
    const dvae = initial?.model ?? new DiscreteVAE(device, { ...preset(flags.preset), ...flags.config }, { seed: flags.seed })
    const { train, heldOut, description } = await loadImageSplits(spec, { imageSize: dvae.config.imageSize, seed: flags.seed })
    const recipe: TrainOptions = {
      steps: flags.steps,
      batchSize: flags.batch,
      lr: flags.lr,
      gradClip: flags.gradClip > 0 ? flags.gradClip : undefined,
      klWeight: flags.klWeight,
      klWarmupSteps: flags.klWarmup,
      tauStart: flags.tauStart,
      tauEnd: flags.tauEnd,
      tauSteps: flags.tauSteps,
      codes: flags.codes,
      loss: flags.loss,
      dataSeed: flags.seed,
    }
    const trainer = new DvaeTrainer(dvae, train, recipe)
    try {
      const run = await runTraining<StepMetrics, EvalMetrics>(
        device,
        flags,
        trainer,
        ({ evalCount, ...loop }) => trainer.run({ ...loop, evalSet: heldOut, evalCount }),
        {
          header: `${device.kind} (${device.adapter.description || device.adapter.backend}); dVAE ${dvae.parameterCount()} parameters; ${train.length} train / ${heldOut.length} held-out images; ${JSON.stringify(dvae.config)}`,
          // formatStep names the step by its 0-based index; the line follows it, so it is the count done.
          steps: (window) => formatStep({ ...windowMean(window, ['loss', 'recon', 'kl', 'perplexity', 'ms']), step: window.at(-1)!.step + 1 }),
          status: (m) => `loss ${m.loss.toFixed(4)}, ppl ${m.perplexity.toFixed(0)}`,
          evaluation: formatEval,
        },
      )
      if (!run.finished) return
      const { last, evals, segments } = run
      await saveDvae(dvae, out, {
        data: description,
        dataSource: formatDataSpec(spec),
        recipe: { ...trainer.options, backend: device.kind, seed: flags.seed },
        command: segments.segments.map((s) => s.command).join('; then ') || undefined,
        segments: segments.segments,
        ...(init && initial && { initialisedFrom: { dir: init.source, ...initial.manifest } }),
        trainedSteps: trainer.step,
        wallSeconds: segments.wallSeconds,
        machine: run.machine,
        metrics: last && { heldOutPsnrDb: Number(last.psnr.toFixed(2)), heldOutPerplexity: Number(last.perplexity.toFixed(1)), vocabSize: dvae.config.vocabSize, heldOutImages: last.images },
        evalHistory: evals.map((m) => ({ step: m.step, psnr: Number(m.psnr.toFixed(2)), perplexity: Number(m.perplexity.toFixed(1)) })),
      })
      console.log(`wrote ${out} (step ${trainer.step})${last ? `: held-out PSNR ${last.psnr.toFixed(2)} dB` : ''}`)
    } finally {
      trainer.dispose()
      dvae.dispose()
    }
  } finally {
    device.destroy()
  }
}
