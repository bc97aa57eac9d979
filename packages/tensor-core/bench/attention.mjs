// Fused ops.attention vs the unfused composition it replaced (matmul → scale → masked softmax
// → matmul) on the prior's shapes, forward and forward+backward, on the WebGPU adapter.
// Usage: node bench/attention.mjs (after `pnpm build`). Writes bench/results/attention.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus, loadavg } from 'node:os'
import { Device, noGrad, ops, tidy } from '../dist/index.js'
import { timeIt } from './workloads.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = dirname(fileURLToPath(import.meta.url))

const SHAPES = [
  { name: 'prior layer: B16 H4 L80 d64, keep-mask', batch: 16, heads: 4, lq: 80, lk: 80, d: 64, mask: true },
  { name: 'prior layer: B16 H4 L80 d64, causal', batch: 16, heads: 4, lq: 80, lk: 80, d: 64, causal: true },
  { name: 'decode step: B8 H4 Lq1 Lk80 d64', batch: 8, heads: 4, lq: 1, lk: 80, d: 64, causal: true },
]

const unfused = (q, k, v, mask, d) => ops.matmul(ops.softmax(ops.mul(ops.matmul(q, k, { transB: true }), 1 / Math.sqrt(d)), { mask }), v)
const fill = (n, seed) => Float32Array.from({ length: n }, (_, i) => (((i + seed) * 7919) % 1000) / 500 - 1)

const loadBefore = loadavg()[0]
const device = await Device.create({ backend: 'webgpu' })
const sync = () => device.sync()
const rows = []
for (const s of SHAPES) {
  const shape = (l) => [s.batch, s.heads, l, s.d]
  const [q, k, v] = [shape(s.lq), shape(s.lk), shape(s.lk)].map((sh, i) => device.tensor(fill(sh.reduce((a, b) => a * b), i), sh, { requiresGrad: true }))
  // The prior's masks are keep-masks over [Lq, Lk]; the row mask stands in (previous 10 positions and itself).
  const keep = Int32Array.from({ length: s.lq * s.lk }, (_, e) => {
    const [i, j] = [Math.floor(e / s.lk), e % s.lk]
    const qi = i + s.lk - s.lq
    return +(j <= qi && (!s.mask || qi - j <= 10))
  })
  const mask = s.mask || s.causal ? device.tensor(keep, [s.lq, s.lk]) : undefined
  const fusedOpts = { mask: s.mask ? mask : undefined, causal: !!s.causal }
  const variants = {
    fused: () => ops.attention(q, k, v, fusedOpts),
    unfused: () => unfused(q, k, v, mask, s.d),
  }
  const row = { workload: s.name }
  for (const [name, f] of Object.entries(variants)) {
    row[`${name}ForwardMs`] = (await timeIt(() => noGrad(() => f().dispose()), { sync })).ms
    row[`${name}TrainMs`] = (
      await timeIt(
        () => {
          tidy(() => ops.sum(f()).backward())
          for (const t of [q, k, v]) (t.grad?.dispose(), (t.grad = null))
        },
        { sync },
      )
    ).ms
  }
  row.forwardSpeedup = row.unfusedForwardMs / row.fusedForwardMs
  row.trainSpeedup = row.unfusedTrainMs / row.fusedTrainMs
  rows.push(row)
  console.log(JSON.stringify(row))
  for (const t of [q, k, v, mask]) t?.dispose()
}
const adapter = `${device.adapter.description}${device.adapter.software ? ' (software)' : ''}`
device.destroy()
const machine = `${cpus().length} × ${cpus()[0]?.model}; 1-min load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)}`

const f = (x, d = 1) => x.toFixed(d)
const md = [
  `# Attention bench — ${new Date().toISOString()}`,
  '',
  `Adapter: ${adapter}. Machine: ${machine} (other processes share these cores). Median ms per call (5 runs × 3 iterations after warm-up); speed-up = unfused / fused.`,
  '',
  '| workload | fused fwd | unfused fwd | speed-up | fused fwd+bwd | unfused fwd+bwd | speed-up |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.workload} | ${f(r.fusedForwardMs)} | ${f(r.unfusedForwardMs)} | ${f(r.forwardSpeedup, 2)} | ${f(r.fusedTrainMs)} | ${f(r.unfusedTrainMs)} | ${f(r.trainSpeedup, 2)} |`),
  '',
].join('\n')
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'attention.json'), JSON.stringify({ date: new Date().toISOString(), adapter, machine, rows }, null, 2) + '\n')
writeFileSync(join(here, 'results', 'attention.md'), md)
console.log(md)
