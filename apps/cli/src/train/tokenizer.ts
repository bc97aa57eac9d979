import { BPETokenizer } from '@tessera/bpe'
import { PAD_TOKEN } from '@tessera/dalle'
import { io } from '@tessera/tensor-core'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { loadImageSplits, parseDataSpec } from '../data/sources.js'
import { UserError } from '../fail.js'
import { userPath } from '../paths.js'

export interface TokenizerFlags {
  data: string
  vocab: number
  minFrequency: number
  out: string
}

/** Smallest vocabulary: the 256 byte symbols and the pad token. */
const MIN_VOCAB = 257

/**
 * tessera train tokenizer: a byte-level BPE trained on the training captions only (held-out
 * captions stay unseen, as their images do), lower-cased, with the pad token `<|pad|>` last:
 * the prior pads captions with its id, and a bundle finds it by that name.
 */
export async function trainTokenizerCommand(flags: TokenizerFlags): Promise<void> {
  if (flags.vocab < MIN_VOCAB) throw new UserError(`--vocab ${flags.vocab}: a byte-level BPE needs at least ${MIN_VOCAB} ids (256 bytes and the pad token)`)
  const spec = parseDataSpec(flags.data)
  const { train } = await loadImageSplits(spec, { imageSize: 'any', seed: 0, heldOutRequired: false })
  const tokenizer = await BPETokenizer.train(train.captions, { vocabSize: flags.vocab, minFrequency: flags.minFrequency, lowercase: true, specialTokens: [PAD_TOKEN] })
  const out = userPath(flags.out)
  await mkdir(dirname(out), { recursive: true })
  await io.writeFileAtomic(out, new TextEncoder().encode(JSON.stringify(tokenizer)))
  const lengths = train.captions.map((c) => tokenizer.encode(c).length).sort((a, b) => a - b)
  const at = (q: number) => lengths[Math.min(lengths.length - 1, Math.floor(q * lengths.length))]
  const short = tokenizer.vocabSize < flags.vocab ? ` (${flags.vocab} asked: the captions hold no more pairs seen ${flags.minFrequency}+ times)` : ''
  console.log(`wrote ${out}: ${tokenizer.vocabSize} ids${short} from ${train.length} training captions; caption tokens median ${at(0.5)}, p95 ${at(0.95)}, max ${lengths.at(-1)} (the prior's --text-length should cover most)`)
}
