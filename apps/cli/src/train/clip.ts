import type { ClipTokenizer } from '@tessera/bpe'
import { CLIP, ClipTrainer, clipTokenizerFromJSON, evaluateRetrieval, preprocessPixels, preset, saveClip, tokenRows, trainCaptionTokenizer, type ClipConfig, type ClipStepMetrics, type RetrievalMetrics } from '@tessera/clip-rerank'
import type { ImageCaptionDataset } from '@tessera/datasets'
import { Device } from '@tessera/tensor-core'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatDataSpec, loadImageSplits, parseDataSpec } from '../data/sources.js'
import { runDirs, runTraining, windowMean, type RunFlags } from './run.js'

/** The whole held-out set is evaluated each time, so there is no --eval-count. */
export interface ClipFlags extends Omit<RunFlags, 'evalCount'> {
  data: string
  preset: string
  config?: Partial<ClipConfig>
  vocabSize: number
  batch: number
  seed: number
  lr: number
  warmupSteps?: number
  weightDecay: number
  gradClip: number
  shift: number
  backend: 'auto' | 'webgpu' | 'cpu'
}

interface ClipEval {
  step: number
  heldOut: RetrievalMetrics
  heldIn: RetrievalMetrics
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const round = (m: RetrievalMetrics) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k === 'count' ? v : Number(v.toFixed(4))]))

/**
 * The caption tokenizer: trained on the training captions only, and kept beside the checkpoints
 * so a resumed run tokenises exactly as before.
 */
async function captionTokenizer(checkpoints: string, captions: readonly string[], vocabSize: number, resume: boolean): Promise<ClipTokenizer> {
  const file = join(checkpoints, 'tokenizer.json')
  if (resume && existsSync(file)) return clipTokenizerFromJSON(await readFile(file, 'utf8'))
  const tokenizer = await trainCaptionTokenizer(captions, { vocabSize })
  await mkdir(checkpoints, { recursive: true })
  await writeFile(file, JSON.stringify(tokenizer.bpe.toJSON()) + '\n')
  return tokenizer
}

/**
 * tessera train clip: a small CLIP trained contrastively on the captions and images of --data,
 * evaluated by retrieval on held-out and as many held-in pairs, written as a CLIP directory
 * (clip.safetensors, tokenizer.json, manifest.json) that tessera bundle --clip takes for reranking.
 */
export async function trainClipCommand(flags: ClipFlags): Promise<void> {
  const spec = parseDataSpec(flags.data)
  const { out, checkpoints } = runDirs(flags)
  const device = await Device.create({ backend: flags.backend, seed: flags.seed })
  try {
    const config = { ...preset(flags.preset), ...flags.config }
    const { train, heldOut, description } = await loadImageSplits(spec, { imageSize: config.imageResolution, seed: flags.seed })
    const tokenizer = await captionTokenizer(checkpoints, train.captions, flags.vocabSize, flags.resume === true)
    const model = new CLIP(device, { ...config, vocabSize: tokenizer.vocabSize }, { seed: flags.seed })
    const trainer = new ClipTrainer(model, tokenizer, train, {
      steps: flags.steps,
      batchSize: flags.batch,
      lr: flags.lr,
      warmupSteps: flags.warmupSteps,
      weightDecay: flags.weightDecay,
      gradClip: flags.gradClip,
      shift: flags.shift,
      dataSeed: flags.seed,
    })
    // Held-out: every held-out pair; held-in: as many training pairs, spread evenly over the set.
    const evalSet = (data: ImageCaptionDataset, count: number) => {
      const n = Math.min(count, data.length)
      const picks = Array.from({ length: n }, (_, i) => Math.floor((i * data.length) / n))
      const per = 3 * data.imageSize * data.imageSize
      const pixels = new Float32Array(n * per)
      picks.forEach((p, i) => pixels.set(data.images.subarray(p * per, (p + 1) * per), i * per))
      return { images: preprocessPixels(pixels, data.imageSize, model.config.imageResolution), tokens: tokenRows(tokenizer, picks.map((p) => data.captions[p]!), model.config.contextLength) }
    }
    const heldOutSet = evalSet(heldOut, heldOut.length)
    const heldInSet = evalSet(train, heldOut.length)
    const evaluate = async ({ step }: { step: number }): Promise<ClipEval> => ({
      step,
      heldOut: await evaluateRetrieval(model, heldOutSet.images, heldOutSet.tokens),
      heldIn: await evaluateRetrieval(model, heldInSet.images, heldInSet.tokens),
    })
    try {
      const run = await runTraining<ClipStepMetrics, ClipEval>(
        device,
        { ...flags, evalCount: heldOut.length },
        trainer,
        ({ evalCount: _all, ...loop }) => trainer.run({ ...loop, evaluate }),
        {
          header: `${device.kind} (${device.adapter.description || device.adapter.backend}); CLIP ${model.parameterCount()} parameters; ${train.length} train / ${heldOut.length} held-out pairs; tokenizer ${tokenizer.vocabSize} ids; ${JSON.stringify(model.config)}`,
          steps: (window) => {
            const m = windowMean(window, ['loss', 'batchAccuracy', 'ms'])
            return `step ${m.step + 1}: loss ${m.loss.toFixed(4)} batch acc ${pct(m.batchAccuracy)} scale ${m.logitScale.toFixed(2)} lr ${m.lr.toExponential(2)} ${m.ms.toFixed(0)} ms/step`
          },
          status: (m) => `loss ${m.loss.toFixed(3)}, batch acc ${pct(m.batchAccuracy)}`,
          evaluation: ({ step, heldOut: h, heldIn: s }) =>
            `eval step ${step}: held-out (${h.count}) t→i top1 ${pct(h.textToImageTop1)} top5 ${pct(h.textToImageTop5)}, i→t top1 ${pct(h.imageToTextTop1)} top5 ${pct(h.imageToTextTop5)} | ` +
            `held-in (${s.count}) t→i top1 ${pct(s.textToImageTop1)} top5 ${pct(s.textToImageTop5)}, i→t top1 ${pct(s.imageToTextTop1)} top5 ${pct(s.imageToTextTop5)}`,
        },
      )
      if (!run.finished) return
      const { last, evals, segments } = run
      await saveClip(model, out, {
        tokenizer,
        provenance: {
          data: description,
          dataSource: formatDataSpec(spec),
          recipe: { ...trainer.options, backend: device.kind, seed: flags.seed },
          segments: segments.segments,
          trainedSteps: trainer.step,
          wallSeconds: segments.wallSeconds,
          machine: run.machine,
          metrics: last && { heldOut: round(last.heldOut), heldIn: round(last.heldIn) },
          evalHistory: evals.map((e) => ({ step: e.step, heldOutTextToImageTop5: Number(e.heldOut.textToImageTop5.toFixed(4)), heldInTextToImageTop5: Number(e.heldIn.textToImageTop5.toFixed(4)) })),
        },
      })
      console.log(`wrote ${out} (step ${trainer.step})${last ? `: held-out text→image top-5 ${pct(last.heldOut.textToImageTop5)}` : ''}`)
    } finally {
      trainer.dispose()
      model.dispose()
    }
  } finally {
    device.destroy()
  }
}
