#!/usr/bin/env node
// The issue's target, `pnpm tessera generate "a red heart" --count 8 --keep 4` on the default bundle
// (models/emoji): seconds per image for Tessera's CLI on WebGPU (Dawn; lavapipe on CI machines) and
// on its CPU backend, beside the PyTorch reference of the same pipeline (scripts/generate_torch.py,
// CPU, 1 and 2 threads) on the same bundle files, in the same run. Each command runs as a user types it,
// a fresh process (Tessera's includes compiling its WebGPU pipelines). Writes
// bench/results/generate.{json,md}.
// Run after `pnpm build`:  pnpm bench   (or node bench/run.mjs [--runs N] [--prompt TEXT])
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = fileURLToPath(new URL('.', import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    prompt: { type: 'string', default: 'a red heart' },
    count: { type: 'string', default: '8' },
    keep: { type: 'string', default: '4' },
  },
})
const RUNS = Math.max(1, Number(args.runs))
const COUNT = Number(args.count)
const KEEP = Number(args.keep)
// PyTorch with 1 and with 2 threads: on a busy 2-core machine OpenMP's 2 threads can be far slower than 1.
const TORCH_THREADS = [1, 2]
const MODEL = join(repo, 'models/emoji')
const CLI = join(repo, 'apps/cli/dist/index.js')
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3'

/** Runs a command that prints one JSON object last; its report and the process's wall seconds. */
function timed(command, argv) {
  const start = performance.now()
  const run = spawnSync(command, argv, { encoding: 'utf8', cwd: repo, env: process.env, maxBuffer: 16 << 20 })
  const wall = (performance.now() - start) / 1000
  if (run.status !== 0) return { error: (run.stderr || run.error?.message || 'failed').trim().split('\n').at(-1) }
  return { wall, report: JSON.parse(run.stdout.trim().split('\n').at(-1)) }
}

/** The fastest of RUNS runs (by generate's own seconds), with every run's times kept. */
function best(command, argv) {
  const runs = []
  for (let i = 0; i < RUNS; i++) {
    const r = timed(command, argv)
    if (r.error) return { error: r.error }
    runs.push(r)
  }
  const { wall, report } = runs.reduce((a, b) => (b.report.seconds < a.report.seconds ? b : a))
  return {
    seconds: report.seconds,
    secondsPerImage: report.seconds / COUNT,
    wallSeconds: wall,
    wallSecondsPerImage: wall / COUNT,
    imageTokensPerSecond: (COUNT * IMAGE_TOKENS) / report.seconds,
    scores: report.scores,
    reranker: report.reranker,
    // The reference also reports its stages (encode, sample, decode, rerank) and sampling-only tokens/s.
    ...(report.stages && { stages: report.stages, samplingTokensPerSecond: report.tokensPerSecond, threads: report.threads, torch: report.torch, loadSeconds: report.loadSeconds }),
    runs: runs.map((r) => ({ wall: r.wall, seconds: r.report.seconds })),
  }
}

/** The adapter as `tessera info` names it (webgpu backend). */
function adapterName() {
  const info = spawnSync(process.execPath, [CLI, 'info', '--json'], { encoding: 'utf8', cwd: repo, env: process.env })
  try {
    const a = JSON.parse(info.stdout.trim().split('\n').at(-1)).adapter
    return `${[a.description || a.architecture, a.vendor].filter(Boolean).join(', ')}${a.software ? ' (software)' : ''}`
  } catch {
    return 'unknown adapter'
  }
}

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm build first`)
const manifest = JSON.parse(await readFile(join(MODEL, 'manifest.json'), 'utf8'))
const IMAGE_TOKENS = manifest.components.prior.config.gridSize[0] * manifest.components.prior.config.gridSize[1]
const out = await mkdtemp(join(tmpdir(), 'dalle-bench-'))
const shared = [args.prompt, '--count', String(COUNT), '--keep', String(KEEP), '--json']
const loadBefore = loadavg()
const tessera = {}
for (const backend of ['webgpu', 'cpu']) tessera[backend] = best(process.execPath, [CLI, 'generate', ...shared, '--backend', backend, '--out', join(out, backend)])
const torch = Object.fromEntries(TORCH_THREADS.map((n) => [n, best(PYTHON, [join(here, '../scripts/generate_torch.py'), ...shared, '--threads', String(n), '--out', join(out, `torch-${n}`)])]))
const loadAfter = loadavg()
await rm(out, { recursive: true, force: true })

const adapter = adapterName()
// The peer is PyTorch at its best here: the faster of its thread counts.
const peerThreads = TORCH_THREADS.filter((n) => torch[n].secondsPerImage).sort((a, b) => torch[a].secondsPerImage - torch[b].secondsPerImage)[0]
const peer = torch[peerThreads] ?? {}
const speed = (t) => (t.secondsPerImage && peer.secondsPerImage ? peer.secondsPerImage / t.secondsPerImage : null)
const result = {
  date: new Date().toISOString(),
  command: `tessera generate ${JSON.stringify(args.prompt)} --count ${COUNT} --keep ${KEEP}`,
  model: { dir: 'models/emoji', prior: manifest.components.prior.config, dvae: manifest.components.dvae.config, sampling: manifest.sampling },
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgBefore: loadBefore, loadavgAfter: loadAfter },
  adapter,
  runs: RUNS,
  tessera: { webgpu: { ...tessera.webgpu, speedVsTorch: speed(tessera.webgpu) }, cpu: { ...tessera.cpu, speedVsTorch: speed(tessera.cpu) } },
  torch,
  peerThreads,
}

const f = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '—')
const row = (name, r) => `| ${name} | ${f(r.secondsPerImage, 3)} | ${f(r.seconds)} | ${f(r.wallSeconds)} | ${f(r.imageTokensPerSecond, 0)} | ${r.error ? r.error : f(speed(r), 3)} |`
const p = manifest.components.prior.config
const md = `# generate benchmark (${result.date})

\`${result.command}\` on \`models/emoji\` (prior ${p.layers} layers, width ${p.width}, ${p.textLength} text + ${p.gridSize[0] * p.gridSize[1]} image tokens; dVAE ${manifest.components.dvae.config.imageSize}² px; CLIP reranks; the bundle's sampling: ${JSON.stringify(manifest.sampling)}).
Each command once per run, a fresh process as typed${RUNS > 1 ? `, best of ${RUNS}` : ''}; ${adapter}; ${result.machine.cpus} CPUs (${result.machine.model}), load ${loadBefore.map((l) => l.toFixed(1)).join(' / ')} before and ${loadAfter.map((l) => l.toFixed(1)).join(' / ')} after (other work shares the machine).

Seconds per image = generate's own seconds (prompt → ${COUNT} candidates sampled, decoded, reranked → best ${KEEP}) ÷ ${COUNT} candidates; the whole command adds process start, device and bundle loading, and writing the PNGs. Speed vs PyTorch = PyTorch's seconds per image (the faster of its runs, ${peerThreads} thread${peerThreads === 1 ? '' : 's'}) ÷ this row's.

| run | seconds per image | generate, s | whole command, s | image tokens/s | speed vs PyTorch |
|---|---|---|---|---|---|
${row('Tessera CLI, WebGPU', tessera.webgpu)}
${row('Tessera CLI, CPU backend', tessera.cpu)}
${TORCH_THREADS.map((n) => row(`PyTorch reference, CPU (${n} thread${n === 1 ? '' : 's'})`, torch[n])).join('\n')}
`
await mkdir(`${here}results`, { recursive: true })
await writeFile(`${here}results/generate.json`, JSON.stringify(result, null, 2) + '\n')
await writeFile(`${here}results/generate.md`, md)
console.log(md)
