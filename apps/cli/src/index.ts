import { BpeError } from '@tessera/bpe'
import { DatasetError } from '@tessera/datasets'
import { TesseraError } from '@tessera/tensor-core'
import { Command, Option } from 'commander'
import { completeCommand } from './commands/complete.js'
import { generateCommand } from './commands/generate.js'
import { infoCommand } from './commands/info.js'
import { registerBench } from './commands/bench.js'
import { registerBundle } from './commands/bundle.js'
import { registerEval } from './commands/eval.js'
import { registerTrain } from './commands/train.js'
import { oneLine, UserError } from './fail.js'
import { integer, maskSpec, number, positiveInt, samplerSpec } from './options.js'

const program = new Command('tessera')
  .description('DALL·E in TypeScript on WebGPU: text → images with a Tessera model bundle, and every stage of one trained here')
  .addOption(new Option('--backend <kind>', 'where tensors run').choices(['auto', 'webgpu', 'cpu']).default('auto'))
  .addHelpText(
    'after',
    `
Examples:
  $ tessera generate "a red heart" --count 8 --keep 4 --seed 1 --out hearts
  $ tessera generate "a grinning face" --top-k 64 --temperature 0.9 --json
  $ tessera complete smile.png "a grinning face" --keep top --rows 4
  $ tessera info
  $ tessera train tokenizer --data folder:./pics --out run/tokenizer.json      # then train dvae, prior, clip (tessera train --help)
  $ tessera bundle --prior run/prior --dvae run/dvae --clip run/clip --out run/bundle
  $ tessera eval --model run/bundle --write
  $ tessera bench generate

The default model is the bundle in the repository's models/emoji; --model takes another bundle
directory (or a name under models/). From the repository root: pnpm tessera <command> …\n`,
  )

/** The sampling flags generate and complete share. */
function samplingOptions(cmd: Command, count: number): Command {
  return cmd
    .option('-n, --count <n>', 'candidates to sample', positiveInt, count)
    .option('-s, --seed <n>', 'seed: the same seed gives the same images', integer, 0)
    .option('-o, --out <dir>', 'where the PNGs go', 'tessera-out')
    .option('-m, --model <dir|name>', 'model bundle directory, or a name under models/ (default: models/emoji)')
    .option('--sampler <names>', 'sampler stages by plugin name, comma-separated (e.g. greedy), or JSON', samplerSpec)
    .option('--top-k <k>', 'keep the k likeliest tokens at each step', positiveInt)
    .option('--top-p <p>', 'nucleus sampling: keep the likeliest tokens holding probability p', number)
    .option('--temperature <t>', 'divide the logits by t before sampling', number)
    .option('--guidance <scale>', 'classifier-free guidance scale', number)
    .option('--mask <names>', 'attention masks to sample under: a schedule (dalle), one mask for every layer (row), or one per layer (row,column)', maskSpec)
    .option('--reranker <name>', "reranker plugin (default: clip when the bundle has CLIP, else none)")
    .option('--truncate', 'cut a prompt longer than the model takes instead of failing')
    .option('--preview', 'write STEM-preview.png to --out after every row of tokens')
    .option('--scale <n>', 'enlarge the PNGs n times (nearest neighbour)', positiveInt, 1)
    .option('--json', 'print one JSON object: files, scores, seconds')
}

samplingOptions(program.command('generate').argument('<prompt>', 'what to draw').description('text → images: the best --keep of --count candidates, as PNGs and a grid'), 8)
  .option('-k, --keep <k>', 'images kept, best first by the reranker', positiveInt, 4)
  .addHelpText('after', '\nExample:\n  $ tessera generate "a red heart" --count 8 --keep 4 --seed 1 --out hearts --json\n')
  .action(async function (this: Command, prompt: string) {
    await generateCommand(prompt, this.optsWithGlobals())
  })

samplingOptions(program.command('complete').argument('<image>', 'a PNG').argument('[prompt]', 'what the whole image shows', '').description("image → images: keeps the image's top rows (or left columns) of tokens and samples the rest"), 4)
  .addOption(new Option('--keep <region>', 'which part of the image to keep').choices(['top', 'left']).default('top'))
  .option('--rows <n>', 'token rows (or columns, with --keep left) kept; default half the grid', positiveInt)
  .addHelpText('after', '\nExample:\n  $ tessera complete smile.png "a grinning face" --keep top --rows 4 --count 4\n')
  .action(async function (this: Command, image: string, prompt: string) {
    await completeCommand(image, prompt, this.optsWithGlobals())
  })

program
  .command('info')
  .description('the WebGPU adapter, its limits and features, the registered plugins, and the model bundle')
  .option('-m, --model <dir|name>', 'model bundle directory, or a name under models/ (default: models/emoji)')
  .option('--json', 'print one JSON object')
  .action(async function (this: Command) {
    await infoCommand(this.optsWithGlobals())
  })

registerTrain(program)
registerBundle(program)
registerEval(program)
registerBench(program)

try {
  await program.parseAsync(process.argv)
  // A training run stopped by Ctrl-C sets 130 (143 for SIGTERM): it did not finish.
  process.exit(process.exitCode ?? 0)
} catch (error) {
  // Bad input gets one line to act on; anything unexpected too, with the stack on request.
  const expected = error instanceof UserError || error instanceof TesseraError || error instanceof DatasetError || error instanceof BpeError
  process.stderr.write(`tessera: ${oneLine(error)}\n`)
  if (process.env.TESSERA_DEBUG) process.stderr.write(`${(error as Error).stack}\n`)
  else if (!expected) process.stderr.write('(an unexpected error: TESSERA_DEBUG=1 shows where it came from)\n')
  process.exit(1)
}
