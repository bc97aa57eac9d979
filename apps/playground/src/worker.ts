/// <reference lib="webworker" />
// The model lives here, off the page's thread: the bundle, the WebGPU device and generate().
import { loadBundle, type DalleBundle, type GenerateOptions } from '@tessera/dalle'
import { listPlugins, MASK_SCHEDULES } from '@tessera/plugins'
import { Device } from '@tessera/tensor-core'
import type { FromWorker, GenerateRequest, ModelInfo, Rgba, ToWorker } from './protocol.js'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer)

let device: Device | null = null
let bundle: DalleBundle | null = null
let closing = false
const running = new Map<number, AbortController>()

const LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension', 'maxTextureDimension2D'] as const

function gpuDevice(d: Device): GPUDevice | undefined {
  return (d.backend as { device?: GPUDevice }).device
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  const gpu = (navigator as { gpu?: GPU }).gpu
  if (!gpu) throw Object.assign(new Error('this browser exposes no navigator.gpu in workers: WebGPU is missing or disabled'), { code: 'no-webgpu' })
  const adapter = await gpu.requestAdapter()
  if (!adapter) throw Object.assign(new Error('navigator.gpu gave no adapter: WebGPU is enabled but no GPU (or software fallback) is available'), { code: 'no-adapter' })
  const limits: Record<string, number> = {}
  for (const name of LIMITS) limits[name] = Number(adapter.limits[name])
  device = await Device.create({ backend: 'webgpu' })
  const lost = gpuDevice(device)?.lost
  lost?.then((info) => {
    if (closing) return
    for (const c of running.values()) c.abort(new Error('the GPU device was lost'))
    post({ type: 'lost', message: `${info.reason}${info.message ? `: ${info.message}` : ''}` })
  })
  const files = msg.files && Object.fromEntries(Object.entries(msg.files))
  bundle = await loadBundle(device, files ?? new URL(msg.url!))
  const { manifest, prior, dvae } = bundle
  const pc = prior.config
  const info: ModelInfo = {
    adapter: { ...device.adapter },
    limits,
    plugins: { sampler: listPlugins('sampler'), mask: listPlugins('attentionMask'), reranker: listPlugins('reranker'), schedules: Object.keys(MASK_SCHEDULES) },
    sampling: manifest.sampling ?? {},
    model: {
      source: files ? `${Object.keys(files).length} files from disk` : msg.url!,
      imageSize: dvae.config.imageSize,
      grid: [pc.gridSize[0], pc.gridSize[1]],
      textLength: pc.textLength,
      layers: pc.layers,
      width: pc.width,
      hasClip: Boolean(manifest.components.clip),
      note: (manifest.training as { note?: string } | undefined)?.note,
    },
  }
  post({ type: 'ready', info })
}

function rgbaList(images: { count: number; rgba(i: number): { width: number; height: number; data: Uint8Array | Uint8ClampedArray } }): Rgba[] {
  return Array.from({ length: images.count }, (_, i) => {
    const { width, height, data } = images.rgba(i)
    return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) }
  })
}

async function generate(id: number, r: GenerateRequest): Promise<void> {
  if (!bundle) throw new Error('no model is loaded yet')
  const controller = new AbortController()
  running.set(id, controller)
  try {
    const options: GenerateOptions = {
      prompt: r.prompt,
      count: r.count,
      keep: r.keep,
      seed: r.seed,
      signal: controller.signal,
      ...(r.sampler && { sampler: r.sampler }),
      ...(r.topK !== undefined && { topK: r.topK }),
      ...(r.topP !== undefined && { topP: r.topP }),
      ...(r.temperature !== undefined && { temperature: r.temperature }),
      ...(r.guidance !== undefined && { guidance: r.guidance }),
      ...(r.masks && { masks: r.masks }),
      ...(r.reranker && { reranker: r.reranker }),
      ...(r.imagePrompt && { imagePrompt: r.imagePrompt }),
      onProgress: async (p) => {
        const images = rgbaList(await p.preview())
        post({ type: 'progress', id, done: p.done, total: p.total, images }, images.map((i) => i.data.buffer))
      },
    }
    const result = await bundle.generate(options)
    const images = rgbaList(result.images)
    const hw = result.gridSize[0] * result.gridSize[1]
    const tokens = Array.from({ length: result.images.count }, (_, i) => Array.from(result.tokens.subarray(i * hw, (i + 1) * hw)))
    post({ type: 'result', id, images, scores: Array.from(result.scores), candidates: result.candidates, tokens, seconds: result.seconds, reranker: result.reranker }, images.map((i) => i.data.buffer))
  } catch (error) {
    if (controller.signal.aborted && (controller.signal.reason as Error)?.message !== 'the GPU device was lost') post({ type: 'cancelled', id })
    else throw error
  } finally {
    running.delete(id)
  }
}

function report(error: unknown, id: number | undefined, fatal: boolean): void {
  // Class names do not survive minification: the typed errors' codes say which one it was.
  const e = error as { message?: string; code?: string }
  post({ type: 'error', id, code: e?.code, message: e?.message ?? String(error), fatal })
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data
  switch (msg.type) {
    case 'load':
      load(msg).catch((error) => report(error, undefined, true))
      break
    case 'generate':
      generate(msg.id, msg.request).catch((error) => report(error, msg.id, false))
      break
    case 'cancel':
      running.get(msg.id)?.abort(new Error('cancelled'))
      break
    case 'lose-device':
      if (device) gpuDevice(device)?.destroy()
      break
  }
}
