import { assembleBundle, type SamplingDefaults } from '@tessera/dalle'
import { Device } from '@tessera/tensor-core'
import { Command } from 'commander'
import { existsSync } from 'node:fs'
import { jsonObject } from '../options.js'
import { componentDir, shippedNames, userPath } from '../paths.js'
import { UserError } from '../fail.js'
import { commandLine } from '../train/provenance.js'

export interface BundleFlags {
  prior: string
  dvae: string
  clip?: string
  tokenizer?: string
  padToken: string
  sampling?: SamplingDefaults
  note?: string
  out: string
}

const SAMPLING_KEYS = ['topK', 'topP', 'temperature', 'guidance']

/**
 * tessera bundle: a model bundle (manifest.json + tokenizer.json + dvae/ + prior/ [+ clip/]) from
 * the directories training leaves: every part is loaded and checked against the others before
 * anything is written, and each keeps its own manifest as provenance.
 */
export async function bundleCommand(flags: BundleFlags): Promise<void> {
  const prior = userPath(flags.prior)
  if (!existsSync(prior)) throw new UserError(`--prior ${flags.prior}: no such directory (${prior}); tessera train prior --out writes one`)
  const unknown = Object.keys(flags.sampling ?? {}).filter((k) => !SAMPLING_KEYS.includes(k))
  if (unknown.length) throw new UserError(`--sampling sets ${SAMPLING_KEYS.join(', ')}; not ${unknown.join(', ')}`)
  const dvae = componentDir(flags.dvae, 'dvae', '--dvae')
  const clip = flags.clip === undefined ? undefined : componentDir(flags.clip, 'clip', '--clip')
  const out = userPath(flags.out)
  const device = await Device.create({ backend: 'cpu' }) // loading and re-saving only: no adapter needed
  try {
    const manifest = await assembleBundle(device, out, {
      prior,
      dvae: dvae.dir,
      clip: clip?.dir,
      tokenizer: flags.tokenizer && userPath(flags.tokenizer),
      padToken: flags.padToken,
      sampling: flags.sampling,
      sources: { dvae: dvae.source, clip: clip?.source },
      training: { assembled: commandLine(), assembledAt: new Date().toISOString(), ...(flags.note && { note: flags.note }) },
    })
    const { prior: p, dvae: d } = manifest.components
    console.log(`wrote ${out}: prior ${p.config.layers} layers × ${p.config.width}, text ${p.config.textLength} tokens of ${p.config.textVocabSize}; dVAE ${d.config.imageSize}² → ${p.config.gridSize.join('×')} of ${d.config.vocabSize}${clip ? '; CLIP reranks' : ''}`)
  } finally {
    device.destroy()
  }
}

export function registerBundle(program: Command): void {
  program
    .command('bundle')
    .description('assemble a model bundle from a trained prior, its tokenizer, a dVAE and optionally a CLIP')
    .requiredOption('--prior <dir>', 'the prior directory (tessera train prior --out)')
    .option('--tokenizer <file>', 'the caption tokenizer the prior was trained with (default: PRIOR/tokenizer.json)')
    .option('--dvae <name|dir>', `the dVAE the prior's tokens belong to: ${shippedNames('dvae').join(', ')} or a directory`, 'dvae-emoji-32')
    .option('--clip <name|dir>', `a CLIP to rerank with: ${shippedNames('clip').join(', ')} or a directory`)
    .option('--sampling <json>', 'recommended generate settings, e.g. {"guidance":3,"topK":32}', jsonObject)
    .option('--pad-token <token>', "the tokenizer's pad token", '<|pad|>')
    .option('--note <text>', 'a note kept in the manifest')
    .requiredOption('-o, --out <dir>', 'where the bundle is written')
    .addHelpText(
      'after',
      `
Examples:
  $ tessera bundle --prior runs/prior --dvae dvae-emoji-32 --clip clip-emoji --sampling '{"guidance":3,"topK":32}' --out runs/bundle
  $ tessera bundle --prior runs/pics-prior --dvae runs/pics-dvae --clip runs/pics-clip --out pics-bundle
  $ tessera generate "a red heart" --model runs/bundle
`,
    )
    .action(async function (this: Command) {
      await bundleCommand(this.optsWithGlobals())
    })
}
