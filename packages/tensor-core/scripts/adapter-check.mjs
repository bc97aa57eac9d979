// Checks this machine's WebGPU adapter against the CPU reference backend and measures
// matmul throughput. Usage (after `pnpm build`): node scripts/adapter-check.mjs
import * as tc from '../dist/index.js'
import { runConformance } from './conformance.mjs'

process.env.XDG_RUNTIME_DIR ??= '/tmp'
const gpu = await tc.Device.create({ backend: 'webgpu' })
const cpu = await tc.Device.create({ backend: 'cpu' })
console.log(`adapter: ${gpu.adapter.description} (${gpu.adapter.vendor}, ${gpu.adapter.architecture}, software: ${gpu.adapter.software})`)
const rows = await runConformance(tc, gpu, cpu)
for (const r of rows) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}: max error ${r.maxScaledError.toExponential(2)} of scale${r.error ? `  (${r.error})` : ''}`)

for (const [m, k, n] of [[1024, 1024, 1024], [256, 512, 2048], [4096, 4096, 4096]]) {
  if (gpu.adapter.software && m > 1024) continue
  const a = gpu.tensor(new Float32Array(m * k).fill(0.5), [m, k])
  const b = gpu.tensor(new Float32Array(k * n).fill(0.25), [k, n])
  tc.ops.matmul(a, b).dispose()
  await gpu.sync()
  const iters = gpu.adapter.software ? 3 : 50
  const t0 = performance.now()
  for (let i = 0; i < iters; i++) tc.ops.matmul(a, b).dispose()
  await gpu.sync()
  const s = (performance.now() - t0) / 1000
  console.log(`matmul ${m}×${k}×${n}: ${((2 * m * k * n * iters) / s / 1e9).toFixed(1)} GFLOP/s`)
}
gpu.destroy()
process.exit(rows.every((r) => r.ok) ? 0 : 1)
