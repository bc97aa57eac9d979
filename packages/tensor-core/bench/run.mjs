/**
 * `pnpm bench` (after `pnpm build`): Tessera on WebGPU beside PyTorch CPU (2 threads, via
 * /usr/bin/python3) and tfjs-backend-wasm (1 thread) on the same shapes, in one run.
 * Writes bench/results/latest.json and latest.md.
 */
import { torchEnv, torchPython } from './torch-peer-env.mjs'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runTessera } from './tessera.mjs'
import { runTfjs } from './tfjs-peer.mjs'
import { CONV, DISPATCH, MATMULS, convFlops, matmulFlops } from './workloads.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = dirname(fileURLToPath(import.meta.url))

function runTorch() {
  try {
    const spec = JSON.stringify({ matmuls: MATMULS, conv: CONV })
    return JSON.parse(execFileSync(torchPython, [join(here, 'torch_peer.py'), spec], { encoding: 'utf8', env: torchEnv }))
  } catch (err) {
    console.error(`PyTorch peer skipped: ${err.message.split('\n')[0]}`)
    return null
  }
}

const loadBefore = loadavg()[0]
const tessera = await runTessera()
const torch = runTorch()
const tfjs = await runTfjs()
const loadAfter = loadavg()[0]

const gflops = (flops, ms) => (ms ? flops / ms / 1e6 : null)
const peers = ['tessera', 'torch', 'tfjs']
const rows = [
  ...MATMULS.map((mm, i) => ({ workload: mm.name, flops: matmulFlops(mm), timing: [tessera.matmul[i], torch?.matmul[i], tfjs.matmul[i]] })),
  { workload: CONV.name, flops: convFlops(CONV), timing: [tessera.conv, torch?.conv, tfjs.conv] },
].map(({ workload, flops, timing }) => {
  const wall = Object.fromEntries(peers.map((p, i) => [p, gflops(flops, timing[i]?.ms)]))
  const perCpuSecond = Object.fromEntries(peers.map((p, i) => [p, gflops(flops, timing[i]?.cpuMs)]))
  return {
    workload,
    gflops: wall,
    gflopsPerCpuSecond: perCpuSecond,
    tesseraVsTorch: wall.torch ? wall.tessera / wall.torch : null,
    tesseraVsTfjs: wall.tessera / wall.tfjs,
  }
})
const convVsMatmul = rows[2].gflops.tessera / Math.max(rows[0].gflops.tessera, rows[1].gflops.tessera)
const convVsMatmulCpu = rows[2].gflopsPerCpuSecond.tessera && rows[2].gflopsPerCpuSecond.tessera / Math.max(rows[0].gflopsPerCpuSecond.tessera, rows[1].gflopsPerCpuSecond.tessera)

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverage1m: { before: loadBefore, after: loadAfter } },
  tessera: { adapter: tessera.adapter, software: tessera.software },
  peers: { torch: torch && { version: torch.version, threads: torch.threads }, tfjs: { version: tfjs.version, backend: tfjs.backend, threads: tfjs.threads } },
  rows,
  convVsMatmul,
  convVsMatmulCpu,
  dispatchUs: tessera.dispatchUs,
}

const f = (v, d = 1) => (v == null ? '—' : v.toFixed(d))
const md = [
  `# Tessera bench — ${result.date}`,
  '',
  `Adapter: ${tessera.adapter}${tessera.software ? ' (software)' : ''}. Machine: ${result.machine.cpus} × ${result.machine.cpu}; 1-min load average ${f(loadBefore, 2)} → ${f(loadAfter, 2)} (other processes share these cores).`,
  `Peers: PyTorch ${torch?.version ?? 'n/a'} CPU (${torch?.threads ?? '—'} threads), tfjs-backend-wasm ${tfjs.version} (${tfjs.threads} thread, Node). Median of 5 runs × 3 iterations after warm-up.`,
  '',
  'Wall-clock GFLOP/s (median):',
  '',
  '| workload | Tessera | PyTorch | tfjs-wasm | Tessera / PyTorch | Tessera / tfjs |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.workload} | ${f(r.gflops.tessera)} | ${f(r.gflops.torch)} | ${f(r.gflops.tfjs)} | ${f(r.tesseraVsTorch, 2)} | ${f(r.tesseraVsTfjs, 2)} |`),
  '',
  'GFLOP per CPU-second (what the work costs in CPU time, whatever else runs; for Tessera the adapter\'s worker threads, for the peers the whole process):',
  '',
  '| workload | Tessera | PyTorch | tfjs-wasm |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.workload} | ${f(r.gflopsPerCpuSecond.tessera)} | ${f(r.gflopsPerCpuSecond.torch)} | ${f(r.gflopsPerCpuSecond.tfjs)} |`),
  '',
  `conv2d 3×3 / best matmul rate: ${f(convVsMatmul * 100, 0)}% wall-clock, ${f(convVsMatmulCpu && convVsMatmulCpu * 100, 0)}% per CPU-second.`,
  `${DISPATCH.name}: ${f(tessera.dispatchUs)} µs per dispatch (${DISPATCH.count} adds, then one read).`,
  '',
].join('\n')

mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify(result, null, 2) + '\n')
writeFileSync(join(here, 'results', 'latest.md'), md)
console.log(md)
