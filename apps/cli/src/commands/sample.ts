import { loadBundle, PromptTooLongError, type DalleBundle, type GenerateOptions, type GenerateResult } from '@tessera/dalle'
import { Device } from '@tessera/tensor-core'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UserError } from '../fail.js'
import { gridImage, writeImages } from '../images.js'
import type { SamplingFlags } from '../options.js'
import { modelDir, userPath } from '../paths.js'
import { progressBar } from '../progress.js'
import { encodePng } from '@tessera/datasets'

/** Runs `use` with the bundle --model names loaded on the --backend device, and frees both after. */
export async function withBundle<T>(flags: Pick<SamplingFlags, 'model' | 'backend'>, use: (bundle: DalleBundle, dir: string) => Promise<T>): Promise<T> {
  const { dir } = modelDir(flags.model)
  const device = await Device.create({ backend: flags.backend })
  try {
    const bundle = await loadBundle(device, dir)
    try {
      return await use(bundle, dir)
    } finally {
      bundle.dispose()
    }
  } finally {
    device.destroy()
  }
}

/**
 * Samples with the shared flags, writes STEM-i.png and STEM-grid.png to --out (and, with
 * --preview, STEM-preview.png after every row of tokens), then reports as text or one JSON object.
 */
export async function sampleAndWrite(bundle: DalleBundle, dir: string, flags: SamplingFlags, request: Pick<GenerateOptions, 'prompt' | 'keep' | 'imagePrompt'>, stem: string): Promise<void> {
  const out = userPath(flags.out)
  if (flags.preview) await mkdir(out, { recursive: true })
  const bar = progressBar(request.imagePrompt ? 'completing' : 'sampling', 'tokens')
  const controller = new AbortController()
  const stop = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', stop)
  let result: GenerateResult
  try {
    result = await bundle.generate({
      ...request,
      count: flags.count,
      seed: flags.seed,
      sampler: flags.sampler,
      topK: flags.topK,
      topP: flags.topP,
      temperature: flags.temperature,
      guidance: flags.guidance,
      masks: flags.mask,
      reranker: flags.reranker,
      truncate: flags.truncate,
      signal: controller.signal,
      onProgress: async (p) => {
        bar.update(p.done, p.total)
        if (flags.preview) await writeFile(join(out, `${stem}-preview.png`), await encodePng(gridImage(await p.preview(), flags.scale)))
      },
    })
  } catch (error) {
    if (error instanceof PromptTooLongError) throw new UserError(`the prompt is ${error.tokens} tokens; this model takes at most ${error.limit}: shorten it, or pass --truncate`)
    throw error
  } finally {
    bar.stop()
    process.off('SIGINT', stop)
  }
  const { files, grid } = await writeImages(out, stem, result.images, flags.scale)
  const scores = [...result.scores].map((s) => Math.round(s * 1e4) / 1e4)
  if (flags.json) {
    const report = { prompt: request.prompt, model: dir, files, grid, scores, candidates: result.candidates, reranker: result.reranker, count: flags.count, keep: result.images.count, seed: flags.seed, seconds: Math.round(result.seconds * 1000) / 1000 }
    process.stdout.write(JSON.stringify(report) + '\n')
    return
  }
  console.log(`"${request.prompt}": kept ${result.images.count} of ${flags.count} (reranker ${result.reranker}) in ${result.seconds.toFixed(1)} s`)
  files.forEach((file, i) => console.log(`  ${file}  score ${scores[i]}`))
  console.log(`  ${grid}`)
}
