import type { Backend } from './backend/backend.js'
import type { Device } from './device.js'
import { gridColumns, type MatmulParams } from './kernels/matmul.js'
import { loadTuningFile, saveTuningFile } from './autotune-file.js'
import { MATMUL_VARIANTS, type MatmulVariant, type MatmulVariantName } from './ops/matmul-variants.js'

/**
 * Matmul autotuning: time every candidate variant that fits a problem once per (adapter,
 * shape class), remember the fastest, and let `selectMatmulVariant` use it from then on.
 * Ops are synchronous and timing needs `await device.sync()`, so tuning is an explicit async
 * step (`await ops.autotuneMatmul(device, problems)`) an app runs at start-up; untuned shapes
 * use the adapter profile's default.
 */

/** What makes variants rank differently: size buckets (powers of 4, n as launched), transposes, B source. */
export function matmulShapeClass(p: MatmulParams): string {
  const bucket = (v: number) => Math.min(6, Math.floor(Math.log2(Math.max(1, v)) / 2))
  return `${p.dtype}|m${bucket(p.m)}n${bucket(gridColumns(p))}k${bucket(p.k)}|${+p.transA}${+p.transB}|${p.im2col ? 'im2col' : 'mat'}${p.foldBatch ? '|fold' : ''}`
}

/** Winners per adapter description, then per shape class. */
const tuned = new Map<string, Map<string, MatmulVariantName>>()

// Winners are only winners among the candidates that ran, so the key names them: a new variant
// is tuned again.
const CANDIDATES = Object.keys(MATMUL_VARIANTS).join(',')

function adapterKey(backend: Backend): string {
  return `${backend.adapter.vendor}|${backend.adapter.architecture}|${backend.adapter.description}|${CANDIDATES}`
}

/** Per adapter: one problem of each untuned shape class a matmul has run, for `autotuneSeenMatmuls`. */
const seen = new Map<string, Map<string, MatmulParams>>()

/**
 * The tuned variant for `p`'s shape class, if any. Untuned classes are remembered (on GPU
 * adapters: on the CPU backend every variant is the same code) so that
 * `autotuneSeenMatmuls` can tune exactly what a workload ran.
 */
export function tunedMatmulVariant(backend: Backend, p: MatmulParams): MatmulVariant | undefined {
  const key = adapterKey(backend)
  const shapeClass = matmulShapeClass(p)
  const name = tuned.get(key)?.get(shapeClass)
  if (name) return MATMUL_VARIANTS[name]
  if (backend.adapter.backend !== 'cpu') {
    const pending = seen.get(key) ?? new Map<string, MatmulParams>()
    seen.set(key, pending)
    if (!pending.has(shapeClass)) pending.set(shapeClass, { ...p })
  }
  return undefined
}

export interface MatmulTuning {
  shapeClass: string
  winner: MatmulVariantName
  /** Median milliseconds per run of each candidate that fits. */
  ms: Partial<Record<MatmulVariantName, number>>
}

export interface AutotuneOptions {
  /** Timed runs per candidate (after one warm-up that also compiles). Default 3. */
  runs?: number
  /** Read and write the winners in a JSON file under the OS cache dir (Node only). Default true. */
  persist?: boolean
}

/** Tunes each problem's shape class not tuned yet on this adapter; returns the decisions. */
export async function autotuneMatmul(device: Device, problems: readonly MatmulParams[], opts: AutotuneOptions = {}): Promise<MatmulTuning[]> {
  const backend = device.backend
  const key = adapterKey(backend)
  if (opts.persist !== false && !tuned.has(key)) {
    const saved = await loadTuningFile()
    const forAdapter = saved[key]
    if (forAdapter) tuned.set(key, new Map(Object.entries(forAdapter).filter(([, v]) => v in MATMUL_VARIANTS) as [string, MatmulVariantName][]))
  }
  const winners = tuned.get(key) ?? new Map<string, MatmulVariantName>()
  tuned.set(key, winners)
  const results: MatmulTuning[] = []
  for (const p of problems) {
    const shapeClass = matmulShapeClass(p)
    if (winners.has(shapeClass)) continue
    const ms = await timeCandidates(device, p, opts.runs ?? 3)
    const ranked = Object.entries(ms).sort((a, b) => a[1] - b[1])
    const winner = ranked[0]![0] as MatmulVariantName
    winners.set(shapeClass, winner)
    results.push({ shapeClass, winner, ms })
  }
  if (opts.persist !== false && results.length) await saveTuningFile(key, Object.fromEntries(winners))
  return results
}

/**
 * Tunes every untuned shape class the matmuls run so far on this device have met (run a
 * workload once, e.g. one training step, then call this; later runs use the winners, which
 * persist per adapter like `autotuneMatmul`'s).
 */
export async function autotuneSeenMatmuls(device: Device, opts: AutotuneOptions = {}): Promise<MatmulTuning[]> {
  const key = adapterKey(device.backend)
  const pending = [...(seen.get(key)?.values() ?? [])]
  seen.delete(key)
  return pending.length ? autotuneMatmul(device, pending, opts) : []
}

async function timeCandidates(device: Device, p: MatmulParams, runs: number): Promise<Partial<Record<MatmulVariantName, number>>> {
  const backend = device.backend
  const aSize = (p.aBatchStride ? p.batch : 1) * p.m * p.k
  const bSize = p.im2col ? p.batch * p.im2col.cin * p.im2col.h * p.im2col.w : (p.bBatchStride ? p.batch : 1) * p.k * p.n
  const operand = (n: number) => {
    const s = backend.alloc(p.dtype, n)
    backend.write(s, new Float32Array(n).fill(0.5))
    return s
  }
  const a = operand(aSize)
  const b = operand(bSize)
  const bias = p.bias === 'none' ? undefined : operand(p.bias === 'row' ? p.m : p.n)
  const out = backend.alloc(p.dtype, p.batch * p.m * p.n)
  const ms: Partial<Record<MatmulVariantName, number>> = {}
  try {
    for (const [name, variant] of Object.entries(MATMUL_VARIANTS) as [MatmulVariantName, MatmulVariant][]) {
      if (!variant.fits(backend, p)) continue
      variant.run(backend, p, a, b, bias, out)
      await device.sync()
      const times: number[] = []
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now()
        variant.run(backend, p, a, b, bias, out)
        await device.sync()
        times.push(performance.now() - t0)
      }
      ms[name] = times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!
    }
  } finally {
    for (const s of [a, b, bias, out]) if (s) backend.release(s)
  }
  return ms
}

/** Forgets in-memory decisions (tests; after a driver update). The JSON file is left alone. */
export function clearMatmulTuning(): void {
  tuned.clear()
  seen.clear()
}
