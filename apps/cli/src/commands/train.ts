import { Command, Option } from 'commander'
import { jsonObject, maskSpec, nonNegative, number, positiveInt } from '../options.js'
import { trainClipCommand } from '../train/clip.js'
import { trainDvaeCommand } from '../train/dvae.js'
import { trainPriorCommand } from '../train/prior.js'
import { trainTokenizerCommand } from '../train/tokenizer.js'

const DATA_HELP = 'emoji, shapes (shapes:N for N training images), folder:DIR (your PNGs, captions in a .txt beside each) or packed:DIR (pack-emoji.mjs)'

/** The flags of every training run: where it writes, its length and cadences, resuming. */
function runOptions(cmd: Command, d: { steps: number; evalEvery: number; checkpointEvery: number; logEvery: number; evalCount?: number }): Command {
  cmd
    .requiredOption('-o, --out <dir>', 'where the trained model is written')
    .option('--checkpoints <dir>', 'where checkpoints go (default: OUT/checkpoints)')
    .option('--resume', 'continue the run whose checkpoint is in the checkpoints folder (after Ctrl-C, a time limit, or to train longer with a larger --steps)')
    .option('--export', 'with --resume: write the checkpoint\'s model as it is, training no step')
    .option('--steps <n>', 'training steps (schedules are laid out over them)', positiveInt, d.steps)
    .option('--seed <n>', 'seed of the weights, the data order and the draws', nonNegative, 0)
    .option('--eval-every <n>', 'evaluate on held-out data every n steps (and at the end)', nonNegative, d.evalEvery)
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps (and at the end, and on Ctrl-C)', nonNegative, d.checkpointEvery)
    .option('--log-every <n>', 'a log line every n steps when no progress bar is drawn (stderr not a terminal)', positiveInt, d.logEvery)
  if (d.evalCount !== undefined) cmd.option('--eval-count <n>', 'held-out items of the periodic evaluations (the last one uses all)', positiveInt, d.evalCount)
  return cmd
}

const STOP_HELP = `
Ctrl-C (or SIGTERM) stops after the step in flight with a checkpoint (a second one quits at once);
the same command with --resume continues exactly where it stopped. A new run refuses to overwrite
a checkpoint: --resume, or another --out.`

export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .description('train a stage of the pipeline: tokenizer, dvae, prior or clip')
    .addHelpText(
      'after',
      `
The stages in order, here on your own folder of PNGs (a caption in a .txt beside each image;
--data also takes emoji and shapes). Each command's --help lists its flags.

Examples:
  $ tessera train tokenizer --data folder:./pics --vocab 1024 --out run/tokenizer.json
  $ tessera train dvae --data folder:./pics --preset emoji-32 --steps 3000 --out run/dvae
  $ tessera train prior --data folder:./pics --dvae run/dvae --tokenizer run/tokenizer.json --out run/prior
  $ tessera train clip --data folder:./pics --out run/clip
  $ tessera bundle --prior run/prior --dvae run/dvae --clip run/clip --out run/bundle
  $ tessera generate "a red fox" --model run/bundle
`,
    )

  train
    .command('tokenizer')
    .description('a byte-level BPE on the training captions, with the pad token <|pad|> the prior pads captions with')
    .requiredOption('--data <source>', DATA_HELP)
    .option('--vocab <n>', 'ids in all (256 bytes + merges + the pad token)', positiveInt, 1024)
    .option('--min-frequency <n>', 'never merge a pair seen fewer times', positiveInt, 2)
    .requiredOption('-o, --out <file>', 'the tokenizer JSON to write')
    .addHelpText('after', '\nExamples:\n  $ tessera train tokenizer --data emoji --vocab 1024 --out runs/emoji/tokenizer.json\n  $ tessera train tokenizer --data folder:./pics --vocab 512 --out pics-tokenizer.json\n')
    .action(async function (this: Command) {
      await trainTokenizerCommand(this.optsWithGlobals())
    })

  runOptions(
    train
      .command('dvae')
      .description('the discrete VAE that turns images into tokens and back (gumbel-softmax, KL to uniform, logit-Laplace or MSE)')
      .option('--data <source>', DATA_HELP, 'emoji')
      .option('--preset <name>', 'model size: emoji-32, emoji-32-large, tiny, mid or openai', 'emoji-32')
      .option('--config <json>', 'DvaeConfig fields over the preset, e.g. {"vocabSize":1024}', jsonObject)
      .option('--init <dir|name>', "start from a trained dVAE's weights and config (fine-tuning)")
      .option('--batch <n>', 'images per step', positiveInt, 32)
      .option('--lr <x>', 'peak learning rate (warmup, then cosine)', number, 2e-3)
      .option('--grad-clip <x>', 'clip the gradient norm (0: off)', number, 1)
      .option('--kl-weight <x>', 'weight of the KL to the uniform prior', number, 6.6)
      .option('--kl-warmup <steps>', 'steps over which the KL weight ramps up', nonNegative, 0)
      .option('--tau-start <x>', 'gumbel-softmax temperature at the start', number, 1)
      .option('--tau-end <x>', 'temperature at the end of the anneal', number, 0.0625)
      .option('--tau-steps <n>', 'steps of the temperature anneal (default: --steps)', positiveInt)
      .addOption(new Option('--codes <kind>', 'codes the decoder trains on').choices(['gumbel', 'straight-through']).default('gumbel'))
      .addOption(new Option('--loss <kind>', 'reconstruction loss').choices(['logit-laplace', 'mse']).default('logit-laplace')),
    { steps: 3000, evalEvery: 250, evalCount: 128, checkpointEvery: 250, logEvery: 10 },
  )
    .addHelpText(
      'after',
      `${STOP_HELP}

Examples:
  $ tessera train dvae --data emoji --steps 3000 --batch 16 --lr 4e-3 --loss mse --kl-weight 0.1 --out runs/dvae
  $ tessera train dvae --data folder:./pics --preset emoji-32 --out runs/pics-dvae
  $ tessera train dvae --data emoji --steps 3000 --batch 16 --out runs/dvae --resume      # after Ctrl-C
  $ tessera train dvae --init dvae-emoji-32 --codes straight-through --tau-start 0.0625 --steps 500 --out runs/dvae-st
`,
    )
    .action(async function (this: Command) {
      await trainDvaeCommand(this.optsWithGlobals())
    })

  runOptions(
    train
      .command('prior')
      .description('the transformer prior over caption + image tokens (the images encoded by the dVAE once, cached beside the checkpoints)')
      .option('--data <source>', `${DATA_HELP}, or tokens:DIR (train.tokens and heldout.tokens already encoded)`, 'emoji')
      .option('--dvae <name|dir>', 'the dVAE whose tokens the prior learns: a shipped name or a directory', 'dvae-emoji-32')
      .option('--tokenizer <file>', 'the caption BPE (tessera train tokenizer); a tokens folder may hold its own tokenizer.json')
      .option('--width <n>', 'transformer width', positiveInt, 256)
      .option('--heads <n>', 'attention heads', positiveInt, 4)
      .option('--layers <n>', 'transformer layers', positiveInt, 4)
      .option('--masks <names>', "attention masks: a schedule ('dalle': row, column, row, … conv last), one name for every layer, a comma list or JSON", maskSpec, 'dalle')
      .option('--text-length <n>', 'caption tokens (longer captions are cut)', positiveInt, 16)
      .option('--batch <n>', 'pairs per step', positiveInt, 32)
      .option('--lr <x>', 'peak learning rate (warmup, then cosine)', number, 1e-3)
      .option('--warmup <steps>', 'learning-rate warmup steps', nonNegative, 200)
      .option('--weight-decay <x>', 'AdamW weight decay', number, 0.01)
      .option('--grad-clip <x>', 'clip the gradient norm', number, 1)
      .option('--bpe-dropout <p>', 'BPE-dropout of the captions', number, 0.1)
      .option('--null-caption <p>', 'share of captions replaced by the empty caption (for guidance)', number, 0.1),
    { steps: 20000, evalEvery: 500, evalCount: 256, checkpointEvery: 250, logEvery: 25 },
  )
    .addHelpText(
      'after',
      `${STOP_HELP} --resume also continues a run that packages/prior/scripts/train-prior.mjs
started: give --data tokens:DIR (its prepared data) and the sizes and recipe it was started with.

Examples:
  $ tessera train prior --data emoji --dvae dvae-emoji-32 --tokenizer runs/emoji/tokenizer.json --width 128 --layers 4 --steps 6000 --out runs/prior
  $ tessera train prior --data folder:./pics --dvae runs/pics-dvae --tokenizer pics-tokenizer.json --steps 2000 --out runs/pics-prior
  $ tessera train prior --data tokens:packages/prior/.runs/emoji-data --width 128 --steps 6000 --out packages/prior/.runs/emoji-prior-w128 --resume
  $ tessera train prior … --resume --export      # write the model as the checkpoint has it
`,
    )
    .action(async function (this: Command) {
      await trainPriorCommand(this.optsWithGlobals())
    })

  runOptions(
    train
      .command('clip')
      .description('a small CLIP (contrastive image–caption model) that reranks generated images')
      .option('--data <source>', DATA_HELP, 'emoji')
      .option('--preset <name>', 'model size: emoji-32 or ViT-B/32', 'emoji-32')
      .option('--config <json>', 'ClipConfig fields over the preset, e.g. {"visionLayers":2}', jsonObject)
      .option('--vocab-size <n>', 'ids of the caption BPE trained for it (at least 514)', positiveInt, 1024)
      .option('--batch <n>', 'pairs per step (each contrasted with the others)', positiveInt, 128)
      .option('--lr <x>', 'peak learning rate (warmup, then cosine)', number, 5e-4)
      .option('--warmup-steps <n>', 'learning-rate warmup steps (default: min(500, steps/10))', nonNegative)
      .option('--weight-decay <x>', 'AdamW weight decay of the weight matrices', number, 0.2)
      .option('--grad-clip <x>', 'clip the gradient norm (0: off)', number, 1)
      .option('--shift <pixels>', 'augmentation: shift each image by up to this many pixels', nonNegative, 2),
    { steps: 4000, evalEvery: 250, checkpointEvery: 50, logEvery: 10 },
  )
    .addHelpText(
      'after',
      `${STOP_HELP}

Examples:
  $ tessera train clip --data emoji --steps 4000 --batch 128 --out runs/clip
  $ tessera train clip --data folder:./pics --batch 32 --steps 1000 --out runs/pics-clip
`,
    )
    .action(async function (this: Command) {
      await trainClipCommand(this.optsWithGlobals())
    })
}
