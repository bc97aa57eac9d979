import { Argument, Command, Option } from 'commander'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UserError } from '../fail.js'
import { positiveInt } from '../options.js'

/** The benchmarks of a Tessera checkout this command runs; each writes JSON and markdown to its package's bench/results/. */
const BENCHES = {
  generate: { script: 'packages/dalle/bench/run.mjs', results: 'packages/dalle/bench/results/generate.{json,md}', what: 'tessera generate on models/emoji on WebGPU and the CPU backend beside the PyTorch reference: seconds per image' },
  kernels: { script: 'packages/tensor-core/bench/run.mjs', results: 'packages/tensor-core/bench/results/latest.{json,md}', what: 'matmul and conv GFLOP/s beside PyTorch, tfjs-wasm, tfjs-webgpu and ort-webgpu, and dispatch overhead' },
} as const

export interface BenchFlags {
  runs: number
  prompt?: string
  count?: number
  keep?: number
}

/** The repository this CLI was built in (apps/cli/dist → the root): the benchmarks are its scripts, not part of the published CLI. */
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url))

/** tessera bench generate|kernels: runs the checkout's benchmark script, which prints its table and writes its results. */
export function benchCommand(which: keyof typeof BENCHES, flags: BenchFlags): void {
  const bench = BENCHES[which]
  const script = join(REPOSITORY, bench.script)
  if (!existsSync(script)) throw new UserError(`tessera bench runs the benchmark scripts of a Tessera checkout; there is none at ${REPOSITORY} (clone the repository and pnpm build)`)
  const args = which === 'generate' ? ['--runs', String(flags.runs), ...(flags.prompt ? ['--prompt', flags.prompt] : []), ...(flags.count ? ['--count', String(flags.count)] : []), ...(flags.keep ? ['--keep', String(flags.keep)] : [])] : []
  const run = spawnSync(process.execPath, [script, ...args], { cwd: REPOSITORY, stdio: 'inherit', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } })
  if (run.status !== 0) throw new UserError(`the ${which} benchmark failed (exit ${run.status ?? run.signal}); its output is above`)
  console.log(`results: ${join(REPOSITORY, bench.results)}`)
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark of this checkout and write its results (JSON + markdown)')
    .addArgument(new Argument('<which>', Object.entries(BENCHES).map(([name, b]) => `${name}: ${b.what}`).join('; ')).choices(Object.keys(BENCHES)))
    .option('--runs <n>', 'generate: runs of each command (the fastest counts)', positiveInt, 1)
    .option('--prompt <text>', 'generate: the prompt (default "a red heart")')
    .addOption(new Option('-n, --count <n>', 'generate: candidates per run (default 8)').argParser(positiveInt))
    .addOption(new Option('-k, --keep <k>', 'generate: images kept (default 4)').argParser(positiveInt))
    .addHelpText(
      'after',
      `
Examples:
  $ tessera bench generate                 # Tessera vs the PyTorch reference, seconds per image → packages/dalle/bench/results/generate.md
  $ tessera bench generate --runs 3 --prompt "a grinning face"
  $ tessera bench kernels                  # matmul/conv GFLOP/s → packages/tensor-core/bench/results/latest.md
`,
    )
    .action(function (this: Command, which: keyof typeof BENCHES) {
      benchCommand(which, this.opts())
    })
}
