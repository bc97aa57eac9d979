/// <reference lib="webworker" />
// The model lives here, off the page's thread: the bundle, the WebGPU device and generate().
import { fileMapSource, loadBundle, urlSource, type BundleSource, type DalleBundle, type GenerateOptions } from '@tessera/dalle'
import { imagesToTensor } from '@tessera/dvae'
import { listPlugins, MASK_SCHEDULES } from '@tessera/plugins'
import { PriorTrainer, tokenDataset } from '@tessera/prior'
import { Device, io } from '@tessera/tensor-core'
import type { FromWorker, GenerateRequest, ModelInfo, Rgba, ToWorker } from './protocol.js'
import { zipStored } from './zip.js'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer)

let device: Device | null = null
let bundle: DalleBundle | null = null
let source: BundleSource | null = null
let trainedSteps = 0
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
  source = files ? fileMapSource(files) : urlSource(new URL(msg.url!))
  bundle = await loadBundle(device, source)
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

/**
 * Fine-tunes the loaded prior in place on the given images (dVAE-encoded here) and captions:
 * generate() then samples from the result.
 */
async function train(msg: Extract<ToWorker, { type: 'train' }>): Promise<void> {
  if (!bundle) throw new Error('no model is loaded yet')
  const { prior, dvae } = bundle
  const pixels = imagesToTensor(prior.device, msg.images, dvae.config.imageSize)
  let tokens: Int32Array
  try {
    const t = dvae.encode(pixels)
    tokens = (await t.read()) as Int32Array
    t.dispose()
  } finally {
    pixels.dispose()
  }
  const data = tokenDataset(msg.captions, tokens, prior.imageLength)
  const controller = new AbortController()
  running.set(msg.id, controller)
  const trainer = new PriorTrainer(prior, data, bundle.tokenizer, { steps: msg.steps, batchSize: Math.min(msg.batchSize, msg.captions.length), lr: msg.lr, warmupSteps: 0, dataSeed: trainedSteps })
  prior.train()
  let step = 0
  try {
    for (; step < msg.steps && !controller.signal.aborted; step++) {
      const m = await trainer.trainStep()
      post({ type: 'train-step', id: msg.id, step: step + 1, steps: msg.steps, loss: m.loss, imageCe: m.imageCe, textCe: m.textCe, ms: m.ms })
    }
  } finally {
    prior.eval()
    running.delete(msg.id)
    trainer.optimizer.zeroGrad()
    // Priors made for other masks copied the weights before this run: drop them.
    ;(bundle as unknown as { masked?: Map<string, Promise<{ dispose(): void }>> }).masked?.clear()
    trainedSteps += step
  }
  post({ type: 'trained', id: msg.id, steps: step, stopped: step < msg.steps })
}

/** The bundle as loaded, with the prior's weights as they are now, as one .zip. */
async function exportBundle(id: number): Promise<void> {
  if (!bundle || !source) throw new Error('no model is loaded yet')
  const manifest = bundle.manifest
  const paths = new Set<string>(['manifest.json', 'dvae/manifest.json', 'prior/manifest.json'])
  for (const entry of Object.values(manifest.components)) for (const path of Object.values((entry as { files: Record<string, string> }).files)) paths.add(path)
  const files: Record<string, Uint8Array> = {}
  for (const path of paths) {
    const bytes = await source.read(path)
    if (bytes) files[path] = bytes
  }
  const weights = manifest.components.prior.files.weights ?? 'prior/prior.safetensors'
  files[weights] = io.serializeSafetensors(await bundle.prior.hostStateDict())
  const top = JSON.parse(new TextDecoder().decode(files['manifest.json']))
  top.training = { ...top.training, fineTuned: { steps: trainedSteps, where: 'Tessera playground (browser)', at: new Date().toISOString() } }
  files['manifest.json'] = new TextEncoder().encode(JSON.stringify(top, null, 2) + '\n')
  const zip = zipStored(files)
  post({ type: 'exported', id, zip }, [zip.buffer])
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
    case 'stop-training':
      running.get(msg.id)?.abort(new Error('cancelled'))
      break
    case 'train':
      train(msg).catch((error) => report(error, msg.id, false))
      break
    case 'export':
      exportBundle(msg.id).catch((error) => report(error, msg.id, false))
      break
    case 'lose-device':
      if (device) gpuDevice(device)?.destroy()
      break
  }
}
