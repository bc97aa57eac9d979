import { loadBundle, type BundleManifest } from '@tessera/dalle'
import { Device, io } from '@tessera/tensor-core'
import { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { shapesJudge } from '../data/shapes.js'
import { formatDataSpec, loadImageSplits, parseDataSpec, type DataSpec } from '../data/sources.js'
import { UserError } from '../fail.js'
import { nonNegative, positiveInt } from '../options.js'
import { modelDir } from '../paths.js'
import { progressBar } from '../progress.js'
import { evaluateOnRealImages, type RealImageSplitResult } from '../eval/real-images.js'
import { bundleClipScorer } from '../eval/scoring.js'
import { evaluateShapes, type ShapesAcceptance, type ShapesSplitResult } from '../eval/shapes.js'
import { commandLine, machineDescription } from '../train/provenance.js'

export interface EvalFlags {
  model?: string
  data?: string
  captions: number
  candidates: number
  count: number
  keep: number
  seed: number
  write?: boolean
  json?: boolean
  backend: 'auto' | 'webgpu' | 'cpu'
}

/** What `metrics.eval` of a manifest holds. */
export interface EvalReport {
  command: string
  date: string
  machine: string
  data: string
  settings: { captions: number; candidates?: number; count: number; keep: number; seed: number; reranker: string }
  results: { heldIn: RealImageSplitResult; heldOut: RealImageSplitResult } | { seen: ShapesSplitResult; unseen: ShapesSplitResult }
  seconds: number
}

/** --data, or the image source the bundle's prior says it trained on. */
function dataSpec(flags: EvalFlags, manifest: BundleManifest): DataSpec {
  if (flags.data) return parseDataSpec(flags.data)
  const training = manifest.components.prior.provenance?.training as { data?: { source?: string } } | undefined
  const source = training?.data?.source
  try {
    if (source) return parseDataSpec(source)
  } catch {
    // Not an image source (token data, or a path from before the CLI): ask.
  }
  throw new UserError(`the bundle does not say which images its prior trained on${source ? ` (${source})` : ''}: pass --data emoji, shapes or folder:DIR`)
}

const pct = (x: number | null | undefined) => (x == null ? '—' : `${(100 * x).toFixed(1)}%`)
const num = (x: number | null | undefined, d = 2) => (x == null ? '—' : x.toFixed(d))

/** The results as a markdown table, ready for a README. */
function markdown(report: EvalReport): string {
  const r = report.results
  const s = report.settings
  if ('seen' in r) {
    const row = (name: string, x: ShapesAcceptance) => `| ${name} | ${x.captions} | ${x.images} | ${pct(x.acceptedWithoutReranking)} | ${pct(x.acceptedWithReranking)} |`
    const split = (name: string, x: ShapesSplitResult) => [row(name, x), row(`${name}, one shape`, x.oneShape), row(`${name}, two shapes`, x.twoShapes)]
    return [
      `Checker accept rate, ${s.count} samples per caption, CLIP keeping ${s.keep} (${report.data}):`,
      '',
      '| combinations | captions | images | accepted (all samples) | accepted (CLIP-kept) |',
      '|---|---:|---:|---:|---:|',
      ...split('seen in training', r.seen),
      ...split('unseen', r.unseen),
    ].join('\n')
  }
  const row = (name: string, x: RealImageSplitResult) =>
    `| ${name} | ${x.captions} | ${num(x.clip?.kept)} | ${num(x.clip?.real)} | ${pct(x.clip?.keptAtLeastReal)} | ${x.rank.median} of ${x.rank.candidates} (chance ${x.rank.chanceMedian}) | ${pct(x.rank.top5)} | ${x.rankContrast.median} | ${pct(x.rankContrast.top5)} |`
  return [
    `${report.data}: CLIP score of the ${s.keep} kept of ${s.count} samples and of the real image; rank of the real image among ${s.candidates} by the prior's image loss given the caption, and by that loss minus the loss given the null caption (contrast):`,
    '',
    '| captions | n | CLIP, kept | CLIP, real image | kept ≥ real | median rank of the real image | real in top 5 | median rank, contrast | top 5, contrast |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('held-in', r.heldIn),
    row('held-out', r.heldOut),
  ].join('\n')
}

/** Puts the report into the bundle's manifest.json as metrics.eval (atomically; the rest kept as it was). */
async function writeToManifest(dir: string, report: EvalReport): Promise<void> {
  const path = join(dir, 'manifest.json')
  const manifest = JSON.parse(await readFile(path, 'utf8')) as BundleManifest
  manifest.metrics = { ...manifest.metrics, eval: report }
  await io.writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'))
}

/**
 * tessera eval: how well a bundle draws what it is asked. Emoji (and folder) bundles: for held-in
 * and held-out captions, CLIP's score of the kept images beside the real image's, and the real
 * image's rank among candidates by the prior's image loss. Shapes bundles: the checker's accept
 * rate on seen and unseen combinations, with and without CLIP reranking.
 */
export async function evalCommand(flags: EvalFlags): Promise<void> {
  if (flags.count > 0 && flags.keep > flags.count) throw new UserError(`--keep ${flags.keep} cannot be more than --count ${flags.count}: CLIP keeps the best of the samples`)
  const { dir } = modelDir(flags.model)
  const started = performance.now()
  const device = await Device.create({ backend: flags.backend })
  try {
    const bundle = await loadBundle(device, dir)
    try {
      const spec = dataSpec(flags, bundle.manifest)
      const judge = spec.kind === 'shapes' ? shapesJudge() : null
      if (judge && flags.count === 0) throw new UserError('--count 0 leaves nothing for the shapes checker to judge: shapes are evaluated on samples')
      const clip = bundleClipScorer(bundle)
      const bar = progressBar('evaluating', 'captions')
      let done = 0
      const onCaption = () => bar.update(++done, 2 * flags.captions)
      let results: EvalReport['results']
      try {
        if (judge) {
          const opts = { captions: flags.captions, count: flags.count, keep: flags.keep, seed: flags.seed, onCaption }
          results = { seen: await evaluateShapes(bundle, judge, clip, 'seen', opts), unseen: await evaluateShapes(bundle, judge, clip, 'unseen', opts) }
        } else {
          const { train, heldOut } = await loadImageSplits(spec, { imageSize: bundle.dvae.config.imageSize, seed: flags.seed })
          const opts = { captions: flags.captions, candidates: flags.candidates, count: flags.count, keep: flags.keep, seed: flags.seed, onCaption }
          results = { heldIn: await evaluateOnRealImages(bundle, train, clip, opts), heldOut: await evaluateOnRealImages(bundle, heldOut, clip, opts) }
        }
      } finally {
        bar.stop()
      }
      const report: EvalReport = {
        command: commandLine(),
        date: new Date().toISOString(),
        machine: machineDescription(device),
        data: formatDataSpec(spec),
        settings: { captions: flags.captions, ...(!judge && { candidates: flags.candidates }), count: flags.count, keep: flags.keep, seed: flags.seed, reranker: clip ? 'clip' : 'none (the bundle has no CLIP)' },
        results,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      }
      if (flags.write) await writeToManifest(dir, report)
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n')
      else console.log(`${markdown(report)}\n\n${report.seconds} s on ${report.machine}${flags.write ? `; written to ${join(dir, 'manifest.json')} (metrics.eval)` : ''}`)
    } finally {
      bundle.dispose()
    }
  } finally {
    device.destroy()
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('how well a bundle draws what it is asked: CLIP scores and ranks against real images (emoji, folders), or a checker on shapes')
    .option('-m, --model <dir|name>', 'model bundle directory, or a name under models/ (default: models/emoji)')
    .option('--data <source>', "emoji, shapes or folder:DIR (default: what the bundle's prior trained on)")
    .option('--captions <n>', 'captions per split (held-in and held-out; seen and unseen)', positiveInt, 8)
    .option('--candidates <n>', 'images the real one is ranked among (itself included)', positiveInt, 32)
    .option('-n, --count <n>', 'images generated per caption (0: emoji and folders rank only, fast enough for hundreds of captions)', nonNegative, 8)
    .option('-k, --keep <k>', 'of those, how many CLIP keeps', positiveInt, 2)
    .option('-s, --seed <n>', 'seed of the caption draw and the samples', nonNegative, 0)
    .option('--write', "store the results in the bundle's manifest.json as metrics.eval")
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Emoji and folder bundles: per caption, CLIP's score of the kept images and of the real image (a
model whose kept images score as high as the real one draws its captions as well as CLIP can
tell), and the rank of the real image among --candidates by the prior's image loss (chance is
(candidates + 1) / 2), plain and as a contrast with the null caption's loss (which discounts
images every caption finds likely, such as mostly blank ones). Shapes bundles: the share of images the rule-based checker accepts.
The defaults take a few minutes on a CPU-only machine; the table printed is markdown.

Examples:
  $ tessera eval --data emoji
  $ tessera eval --model runs/bundle --captions 32 --candidates 100 --write
  $ tessera eval --captions 200 --candidates 200 --count 0    # ranks only
  $ tessera eval --model pics-bundle --data folder:./pics --json
`,
    )
    .action(async function (this: Command) {
      await evalCommand(this.optsWithGlobals())
    })
}
