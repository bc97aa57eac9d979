/**
 * `pnpm bench` (after `pnpm build`): Tessera on WebGPU beside, in one run and on the same
 * shapes, PyTorch CPU (2 threads, via /usr/bin/python3), tfjs-backend-wasm (1 thread), and
 * two WebGPU peers on the same Dawn adapter as Tessera: tfjs-backend-webgpu and
 * onnxruntime-web's WebGPU execution provider. Each JS peer first computes small cases that
 * must match a CPU reference (check.mjs); a peer that fails that, or cannot run here, is
 * reported (stderr, and a note under the table) instead of timed.
 * Writes bench/results/latest.json and latest.md.
 */
import { torchEnv, torchPython } from './torch-peer-env.mjs'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PeerCheckError } from './check.mjs'
import { shareDawnGpu } from './gpu-env.mjs'
import { runOrt } from './ort-peer.mjs'
import { runTessera } from './tessera.mjs'
import { runTfjs } from './tfjs-peer.mjs'
import { CONVS, DISPATCH, MATMULS, convFlops, matmulFlops } from './workloads.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = dirname(fileURLToPath(import.meta.url))

function runTorch() {
  const spec = JSON.stringify({ matmuls: MATMULS, convs: CONVS })
  return JSON.parse(execFileSync(torchPython, [join(here, 'torch_peer.py'), spec], { encoding: 'utf8', env: torchEnv }))
}

/** A peer's results, or { error } with the first line of what went wrong (all of it on stderr). */
async function peer(label, run) {
  const t0 = performance.now()
  console.error(`${label}…`)
  try {
    const out = await run()
    console.error(`${label}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    return out
  } catch (err) {
    const kind = err instanceof PeerCheckError ? 'FAILED ITS NUMERICAL CHECK' : 'could not run'
    console.error(`\n*** ${label} ${kind}: ${err.stack ?? err}\n`)
    return { error: `${kind}: ${String(err.message ?? err).split('\n')[0]}` }
  }
}

const loadBefore = loadavg()[0]
// Tessera first: its device creation sets up the Dawn GPU object the WebGPU peers then share.
// Tessera failing its own check is a failed bench, not a note.
const tessera = await runTessera()
shareDawnGpu()
const torch = await peer('PyTorch CPU', runTorch)
const tfjs = await peer('tfjs-wasm', () => runTfjs('wasm'))
const tfjsWebgpu = await peer('tfjs-webgpu', () => runTfjs('webgpu'))
const ortWebgpu = await peer('ort-webgpu', runOrt)
const loadAfter = loadavg()[0]

const PEERS = { tessera, torch, tfjs, tfjsWebgpu, ortWebgpu }
const LABELS = { tessera: 'Tessera', torch: 'PyTorch', tfjs: 'tfjs-wasm', tfjsWebgpu: 'tfjs-webgpu', ortWebgpu: 'ort-webgpu' }
const RATIOS = { tesseraVsTorch: 'torch', tesseraVsTfjs: 'tfjs', tesseraVsTfjsWebgpu: 'tfjsWebgpu', tesseraVsOrtWebgpu: 'ortWebgpu' }
const names = Object.keys(PEERS)
const gflops = (flops, ms) => (ms ? flops / ms / 1e6 : null)
const workloads = [
  ...MATMULS.map((mm, i) => ({ workload: mm.name, kind: 'matmul', flops: matmulFlops(mm), pick: (p) => p.matmul?.[i] })),
  ...CONVS.map((c, i) => ({ workload: c.name, kind: 'conv', flops: convFlops(c), pick: (p) => p.conv?.[i] })),
]
const rows = workloads.map(({ workload, kind, flops, pick }) => {
  const timing = Object.fromEntries(names.map((p) => [p, PEERS[p].error ? undefined : pick(PEERS[p])]))
  const wall = Object.fromEntries(names.map((p) => [p, gflops(flops, timing[p]?.ms)]))
  const perCpuSecond = Object.fromEntries(names.map((p) => [p, gflops(flops, timing[p]?.cpuMs)]))
  const firstMs = Object.fromEntries(names.map((p) => [p, timing[p]?.firstMs ?? null]))
  const ratios = Object.fromEntries(Object.entries(RATIOS).map(([key, p]) => [key, wall[p] ? wall.tessera / wall[p] : null]))
  return { workload, kind, gflops: wall, gflopsPerCpuSecond: perCpuSecond, firstCallMs: firstMs, ...ratios }
})
const conv3 = rows.find((r) => r.kind === 'conv')
const bestMatmul = (field) => Math.max(...rows.slice(0, 2).map((r) => r[field].tessera ?? 0)) // the two large matmuls
const convVsMatmul = conv3.gflops.tessera / bestMatmul('gflops')
const convVsMatmulCpu = conv3.gflopsPerCpuSecond.tessera && conv3.gflopsPerCpuSecond.tessera / bestMatmul('gflopsPerCpuSecond')

const failures = Object.fromEntries(names.filter((p) => PEERS[p].error).map((p) => [p, PEERS[p].error]))
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverage1m: { before: loadBefore, after: loadAfter } },
  tessera: { adapter: tessera.adapter, software: tessera.software },
  peers: {
    torch: torch.error ? { error: torch.error } : { version: torch.version, threads: torch.threads },
    tfjs: tfjs.error ? { error: tfjs.error } : { version: tfjs.version, backend: tfjs.backend, threads: tfjs.threads },
    tfjsWebgpu: tfjsWebgpu.error ? { error: tfjsWebgpu.error } : { version: tfjsWebgpu.version, backend: tfjsWebgpu.backend, adapter: tfjsWebgpu.adapter },
    ortWebgpu: ortWebgpu.error ? { error: ortWebgpu.error } : { version: ortWebgpu.version, ep: ortWebgpu.ep, adapter: ortWebgpu.adapter },
  },
  rows,
  convVsMatmul,
  convVsMatmulCpu,
  dispatchUs: tessera.dispatchUs,
}

const f = (v, d = 1) => (v == null ? '—' : v.toFixed(d))
const cell = (p, v, d = 1) => (PEERS[p].error ? 'failed' : f(v, d))
const gpuPeers = ['tessera', 'tfjsWebgpu', 'ortWebgpu'].filter((p) => !PEERS[p].error)
const adapters = [...new Set(gpuPeers.map((p) => PEERS[p].adapter ?? 'unknown'))]
const version = (p, text) => (PEERS[p].error ? `${LABELS[p]} (failed, see below)` : text)
const md = [
  `# Tessera bench — ${result.date}`,
  '',
  `Adapter: ${tessera.adapter}${tessera.software ? ' (software)' : ''}${adapters.length === 1 ? `; ${gpuPeers.map((p) => LABELS[p]).join(', ')} ran on it (one Dawn instance, navigator.gpu from the npm package webgpu)` : `; the WebGPU runners reported: ${gpuPeers.map((p) => `${LABELS[p]} ${PEERS[p].adapter}`).join(' / ')}`}. Machine: ${result.machine.cpus} × ${result.machine.cpu}; 1-min load average ${f(loadBefore, 2)} → ${f(loadAfter, 2)} (other processes share these cores).`,
  `Peers: ${version('torch', `PyTorch ${torch.version} CPU (${torch.threads} threads)`)}, ${version('tfjs', `tfjs-backend-wasm ${tfjs.version} (${tfjs.threads} thread, Node)`)}, ${version('tfjsWebgpu', `tfjs-backend-webgpu ${tfjsWebgpu.version}`)}, ${version('ortWebgpu', `onnxruntime-web ${ortWebgpu.version} WebGPU EP (1 wasm thread, no CPU fallback)`)}. Every JS peer with numbers below first matched a CPU reference on small odd-sized cases. Median of 5 runs × 3 iterations after warm-up; on the GPU a run enqueues its 3 and reads the last result back.`,
  '',
  'Wall-clock GFLOP/s (median):',
  '',
  `| workload | ${names.map((p) => LABELS[p]).join(' | ')} | Tessera / PyTorch | Tessera / tfjs-wasm | Tessera / tfjs-webgpu | Tessera / ort-webgpu |`,
  `|---|${names.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ...rows.map((r) => `| ${r.workload} | ${names.map((p) => cell(p, r.gflops[p])).join(' | ')} | ${Object.entries(RATIOS).map(([key, p]) => cell(p, r[key], 2)).join(' | ')} |`),
  '',
  "GFLOP per CPU-second (what the work costs in CPU time, whatever else runs; for Tessera and the WebGPU peers the adapter's worker threads, for the CPU peers the whole process):",
  '',
  `| workload | ${names.map((p) => LABELS[p]).join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.workload} | ${names.map((p) => cell(p, r.gflopsPerCpuSecond[p])).join(' | ')} |`),
  '',
  'First call, ms (shader compiles and setup included; on a software adapter compiling is LLVM on these cores):',
  '',
  `| workload | ${names.map((p) => LABELS[p]).join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.workload} | ${names.map((p) => cell(p, r.firstCallMs[p], 0)).join(' | ')} |`),
  '',
  `conv2d 3×3 / best large matmul rate (Tessera): ${f(convVsMatmul * 100, 0)}% wall-clock, ${f(convVsMatmulCpu && convVsMatmulCpu * 100, 0)}% per CPU-second.`,
  `${DISPATCH.name}: ${f(tessera.dispatchUs)} µs per dispatch (${DISPATCH.count} adds, then one read).`,
  ...(Object.keys(failures).length ? ['', 'Peers that did not run:', '', ...Object.entries(failures).map(([p, e]) => `- ${LABELS[p]}: ${e}`)] : []),
  '',
].join('\n')

mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify(result, null, 2) + '\n')
writeFileSync(join(here, 'results', 'latest.md'), md)
console.log(md)
