import { loadBundle, type BundleManifest } from '@tessera/dalle'
import { listPlugins } from '@tessera/plugins'
import { Device } from '@tessera/tensor-core'
import { modelDir } from '../paths.js'
import { oneLine } from '../fail.js'

export interface InfoFlags {
  model?: string
  json?: boolean
  backend: 'auto' | 'webgpu' | 'cpu'
}

function componentSummary(manifest: BundleManifest): Record<string, string> {
  const { textTokenizer: t, dvae: d, prior: p, clip } = manifest.components
  const masks = Array.isArray(p.config.masks) ? p.config.masks.map((m) => (typeof m === 'string' ? m : m.name)).join(',') : p.config.masks
  return {
    textTokenizer: `${t.kind}, ${t.config.vocabSize} ids, pad ${t.config.padToken}`,
    dvae: `${d.config.imageSize}² images → ${p.config.gridSize.join('×')} tokens of ${d.config.vocabSize} (groups ${d.config.groupCount}, nHid ${d.config.nHid})`,
    prior: `${p.config.layers} layers × width ${p.config.width}, ${p.config.heads} heads, masks ${masks}; caption ${p.config.textLength} tokens`,
    clip: clip ? `${clip.kind}` : 'none (reranking: none)',
  }
}

/** tessera info: the adapter, its limits and features, the registered plugins, and the bundle. */
export async function infoCommand(flags: InfoFlags): Promise<void> {
  const device = await Device.create({ backend: flags.backend })
  const { backend } = device
  const report: Record<string, unknown> = {
    adapter: device.adapter,
    limits: { maxTensorBytes: device.maxTensorBytes, maxTextureDimension2D: backend.maxTextureDimension2D, maxStorageBuffersPerKernel: backend.maxStorageBuffersPerKernel, f16: backend.supportsF16 },
    plugins: { attentionMask: listPlugins('attentionMask'), sampler: listPlugins('sampler'), reranker: listPlugins('reranker') },
  }
  try {
    let dir: string | null = null
    try {
      dir = modelDir(flags.model).dir
    } catch (error) {
      if (flags.model !== undefined) throw error
      report.bundle = { missing: oneLine(error) } // no default bundle yet: still worth showing the adapter
    }
    if (dir) {
      const bundle = await loadBundle(device, dir)
      const { manifest } = bundle
      report.bundle = { location: dir, format: `${manifest.format} v${manifest.version}`, components: componentSummary(manifest), training: manifest.training ?? null, metrics: manifest.metrics ?? null }
      bundle.dispose()
    }
  } finally {
    device.destroy()
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(report) + '\n')
    return
  }
  const a = device.adapter
  const limits = report.limits as Record<string, unknown>
  console.log(`adapter   ${a.backend}: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unknown'}${a.software ? ' (software)' : ''}`)
  console.log(`limits    ${Object.entries(limits).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  console.log(`features  ${a.features.length ? a.features.join(', ') : '(none)'}`)
  for (const [kind, names] of Object.entries(report.plugins as Record<string, string[]>)) console.log(`${kind.padEnd(9)} ${names.join(', ')}`)
  const bundle = report.bundle as Record<string, unknown>
  if (bundle.missing) console.log(`bundle    ${bundle.missing}`)
  else {
    console.log(`bundle    ${bundle.location}`)
    console.log(`          ${bundle.format}`)
    for (const [name, text] of Object.entries(bundle.components as Record<string, string>)) console.log(`  ${name.padEnd(14)}${text}`)
    if (bundle.training) console.log(`  training      ${JSON.stringify(bundle.training)}`)
    if (bundle.metrics) console.log(`  metrics       ${JSON.stringify(bundle.metrics)}`)
  }
}

