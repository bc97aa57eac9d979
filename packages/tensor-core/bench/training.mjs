// Training-step throughput (samples/s) of a small transformer block and a small conv net on
// the WebGPU adapter, beside PyTorch CPU running the same models in the same run.
// Usage: node bench/training.mjs   (after `pnpm build`; PyTorch from `scripts/setup.sh --with-torch`,
// or TORCH_PYTHON=/path/to/python3)
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Device, ops, optim, tidy } from '../dist/index.js'
import { Block, ConvNet, CONVNET, TRANSFORMER } from './training-models.mjs'
import { torchEnv, torchPython } from './torch-peer-env.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const here = dirname(fileURLToPath(import.meta.url))
const STEPS = Number(process.env.TESSERA_BENCH_STEPS ?? 10)

function randn(n, seed) {
  let s = seed
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0
    return (s / 2 ** 32) * 2 - 1
  })
}

async function timeSteps(device, model, makeBatch, lossOf) {
  const opt = new optim.AdamW(model.namedParameters(), { lr: 1e-3 })
  const { x, y } = makeBatch(device)
  const step = () =>
    tidy(() => {
      const loss = lossOf(model.forward(x), y)
      loss.backward()
      opt.step()
      opt.zeroGrad()
      return loss
    })
  for (let i = 0; i < 2; i++) (await step().read(), undefined) // warm-up: compiles every pipeline
  const times = []
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now()
    const loss = step()
    await loss.read()
    loss.dispose()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  model.dispose()
  opt.dispose()
  return times[times.length >> 1]
}

// The peer runs first, while no Dawn device (and no lavapipe worker thread) exists in this
// process: run after it, the same PyTorch step measured 18× slower.
let torch = null
try {
  const out = execFileSync(torchPython, [join(here, 'training_torch.py'), String(STEPS)], { encoding: 'utf8', env: torchEnv })
  torch = JSON.parse(out.trim().split('\n').pop())
} catch (err) {
  console.error(`PyTorch peer unavailable (${err.message.split('\n')[0]}); run scripts/setup.sh --with-torch`)
}

const device = await Device.create({ backend: 'webgpu' })
const results = []

{
  const { d, t, batch } = TRANSFORMER
  const ms = await timeSteps(
    device,
    new Block(device, TRANSFORMER),
    (dev) => ({ x: dev.tensor(randn(batch * t * d, 1), [batch, t, d]), y: dev.tensor(randn(batch * t * d, 2), [batch, t, d]) }),
    (out, y) => ops.mean(ops.square(ops.sub(out, y))),
  )
  results.push({ model: `transformer block d${d} T${t}`, batch, tesseraMs: ms })
}
{
  const { batch, size, channels, classes } = CONVNET
  const labels = Int32Array.from({ length: batch }, (_, i) => i % classes)
  const ms = await timeSteps(
    device,
    new ConvNet(device, CONVNET),
    (dev) => ({ x: dev.tensor(randn(batch * channels[0] * size * size, 3), [batch, channels[0], size, size]), y: dev.tensor(labels, [batch]) }),
    (logits, y) => ops.crossEntropy(logits, y),
  )
  results.push({ model: `conv net ${channels.join('→')} ${size}×${size}`, batch, tesseraMs: ms })
}
const adapter = device.adapter.description
device.destroy()

const rows = results.map((r, i) => {
  const tessera = (r.batch * 1000) / r.tesseraMs
  const peer = torch ? (r.batch * 1000) / torch[i].ms : null
  return { ...r, tesseraSamplesPerS: tessera, torchMs: torch?.[i].ms ?? null, torchSamplesPerS: peer, ratio: peer ? tessera / peer : null }
})
const fmt = (v, d = 1) => (v === null ? 'n/a' : v.toFixed(d))
const table = [
  `Training step throughput (AdamW, median of ${STEPS} steps). Adapter: ${adapter}. PyTorch ${torch ? 'CPU, 2 threads' : 'not run'}.`,
  '',
  '| model | batch | Tessera WebGPU samples/s | PyTorch CPU samples/s | Tessera / PyTorch |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.model} | ${r.batch} | ${fmt(r.tesseraSamplesPerS)} | ${fmt(r.torchSamplesPerS)} | ${fmt(r.ratio, 2)} |`),
].join('\n')
console.log(table)
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'training.json'), JSON.stringify({ adapter, steps: STEPS, rows }, null, 2))
writeFileSync(join(here, 'results', 'training.md'), table + '\n')
