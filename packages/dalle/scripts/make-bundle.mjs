#!/usr/bin/env node
// Assembles a model bundle (manifest.json + tokenizer.json + dvae/ + prior/ [+ clip/]) from the
// parts training leaves behind: a prior directory (savePrior's manifest.json + prior.safetensors,
// usually with tokenizer.json beside them), a dVAE directory or shipped dVAE name, and optionally a
// CLIP directory. Every part is loaded and checked against the others before anything is written.
//   node packages/dalle/scripts/make-bundle.mjs --prior DIR [--tokenizer FILE] [--dvae dvae-emoji-32|DIR] [--clip clip-emoji|DIR] --out models/emoji
import { BPETokenizer } from '@tessera/bpe'
import { clipBundleComponent } from '@tessera/clip-rerank'
import { loadDvae } from '@tessera/dvae'
import { MODELS, modelUrl } from '@tessera/models'
import { loadPrior } from '@tessera/prior'
import { Device } from '@tessera/tensor-core'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { saveBundle } from '../dist/index.js'

const { values: args } = parseArgs({
  options: {
    prior: { type: 'string' },
    tokenizer: { type: 'string' },
    dvae: { type: 'string', default: 'dvae-emoji-32' },
    clip: { type: 'string' },
    out: { type: 'string' },
    'pad-token': { type: 'string', default: '<|pad|>' },
    note: { type: 'string' },
    sampling: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (args.help || !args.prior || !args.out) {
  console.log(`usage: node packages/dalle/scripts/make-bundle.mjs --prior DIR --out DIR [--tokenizer FILE (default DIR/tokenizer.json)] [--dvae ${shippedNames('dvae')}|DIR] [--clip ${shippedNames('clip')}|DIR] [--note TEXT] [--sampling JSON (recommended generate settings, e.g. {"guidance":3,"topK":32})]`)
  process.exit(args.help ? 0 : 1)
}

// What a component's own manifest says besides its format, version and config: its recipe, metrics, commands.
/** The @tessera/models names of one kind, e.g. dvae-emoji-32|dvae-emoji-32-large. */
function shippedNames(kind) {
  return Object.keys(MODELS).filter((name) => MODELS[name] === kind).join('|')
}

/** A shipped model's name (of the given kind) → its directory; anything else is a directory path. */
function modelDir(nameOrDir, kind) {
  return MODELS[nameOrDir] === kind ? fileURLToPath(modelUrl(nameOrDir)) : nameOrDir
}

const provenanceOf = ({ format: _f, version: _v, config: _c, ...rest }) => rest

try {
  const device = await Device.create({ backend: 'cpu' }) // loading and re-saving only: no adapter needed
  const tokenizerPath = args.tokenizer ?? join(args.prior, 'tokenizer.json')
  const tokenizer = BPETokenizer.fromJSON(await readFile(tokenizerPath, 'utf8'))
  const dvaeDir = modelDir(args.dvae, 'dvae')
  const { model: dvae, manifest: dvaeManifest } = await loadDvae(device, dvaeDir)
  const { prior, manifest: priorManifest } = await loadPrior(device, args.prior)
  let clip
  if (args.clip) {
    // A @tessera/clip-rerank model directory (saveClip's): its weights and tokenizer, as the clip reranker reads them.
    clip = await clipBundleComponent(modelDir(args.clip, 'clip'))
  }
  const manifest = await saveBundle(args.out, {
    tokenizer,
    dvae,
    prior,
    padToken: args['pad-token'],
    clip,
    ...(args.sampling && { sampling: JSON.parse(args.sampling) }),
    provenance: {
      textTokenizer: { source: tokenizerPath },
      dvae: { source: MODELS[args.dvae] === 'dvae' ? `@tessera/models ${args.dvae}` : dvaeDir, ...provenanceOf(dvaeManifest) },
      prior: { source: args.prior, ...provenanceOf(priorManifest) },
    },
    training: {
      assembled: `node packages/dalle/scripts/make-bundle.mjs ${process.argv.slice(2).join(' ')}`,
      assembledAt: new Date().toISOString(),
      ...(args.note && { note: args.note }),
    },
  })
  const { prior: p, dvae: d } = manifest.components
  console.log(`wrote ${args.out}: prior ${p.config.layers} layers × ${p.config.width}, text ${p.config.textLength} tokens of ${p.config.textVocabSize}; dVAE ${d.config.imageSize}² → ${p.config.gridSize.join('×')} of ${d.config.vocabSize}${clip ? '; clip' : ''}`)
  dvae.dispose()
  prior.dispose()
  device.destroy()
} catch (error) {
  console.error(`make-bundle: ${error.message}`)
  process.exit(1)
}
