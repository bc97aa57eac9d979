import './style.css'
import type { FromWorker, GenerateRequest, ModelInfo, Rgba, ToWorker } from './protocol.js'

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T
const banner = $('banner')
const status = $('model-status')
const form = $<HTMLFormElement>('form')
const generateButton = $<HTMLButtonElement>('generate')
const cancelButton = $<HTMLButtonElement>('cancel')
const progress = $<HTMLProgressElement>('progress')
const progressText = $('progress-text')
const previews = $('previews')
const results = $('results')
const hooks = new URLSearchParams(location.search).has('test-hooks')

const DEFAULT_BUNDLE = new URL('models/emoji/', document.baseURI).href

let worker: Worker | null = null
let info: ModelInfo | null = null
let source: { url?: string; files?: Record<string, File> } = { url: DEFAULT_BUNDLE }
let runId = 0
let running: number | null = null
let startedAt = 0
let imagePrompt: Rgba | null = null

function showBanner(text: string, action?: { label: string; run: () => void }): void {
  banner.replaceChildren(document.createTextNode(text))
  if (action) {
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = action.label
    button.id = 'banner-action'
    button.onclick = action.run
    banner.append(button)
  }
  banner.hidden = false
}

function setStatus(state: 'loading' | 'ready' | 'error' | 'lost', text: string): void {
  status.dataset.state = state
  status.textContent = text
}

/** A canvas holding the image at its own size (CSS enlarges it, pixelated). */
function canvasOf(image: Rgba): HTMLCanvasElement {
  const canvas = document.createElement('canvas')
  canvas.className = 'image'
  canvas.width = image.width
  canvas.height = image.height
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0)
  return canvas
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48).replace(/-$/, '') || 'image'
}

// ---- the worker ----

function startWorker(): void {
  worker?.terminate()
  info = null
  running = null
  if (training !== null) {
    training = null
    stopButton.disabled = true
    trainStatus.textContent = 'training stopped: the model was reloaded'
  }
  trainButton.disabled = true
  generateButton.disabled = true
  cancelButton.disabled = true
  setStatus('loading', source.url ? 'loading the default bundle…' : 'loading the bundle from disk…')
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
  worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data)
  worker.onerror = (event) => {
    setStatus('error', `the model's worker failed: ${event.message}`)
    showBanner(`The model's worker failed to start: ${event.message}`)
  }
  send({ type: 'load', ...source })
}

function send(message: ToWorker): void {
  worker?.postMessage(message)
}

function onMessage(msg: FromWorker): void {
  if (onTrainMessage(msg)) return
  switch (msg.type) {
    case 'ready':
      info = msg.info
      banner.hidden = true
      showModel(msg.info)
      generateButton.disabled = false
      trainButton.disabled = pairs.length === 0
      exportButton.disabled = false
      break
    case 'progress':
      if (msg.id !== running) return
      progress.max = msg.total
      progress.value = msg.done
      progressText.textContent = `${msg.done} / ${msg.total} tokens · ${((performance.now() - startedAt) / 1000).toFixed(1)} s`
      previews.replaceChildren(...msg.images.map(canvasOf))
      previews.dataset.updates = String(Number(previews.dataset.updates ?? 0) + 1)
      break
    case 'result':
      if (msg.id !== running) return
      finish(`${msg.images.length} images in ${msg.seconds.toFixed(1)} s (${(msg.seconds / Number($<HTMLInputElement>('count').value)).toFixed(2)} s per candidate)`)
      showResults(msg)
      break
    case 'cancelled':
      if (msg.id !== running) return
      finish('cancelled')
      previews.replaceChildren()
      break
    case 'error':
      if (msg.fatal) {
        setStatus('error', msg.message)
        showBanner(msg.code === 'no-adapter' || msg.code === 'no-webgpu' ? `WebGPU is not available: ${msg.message}. Enable WebGPU (on Linux Chromium: chrome://flags/#enable-unsafe-webgpu or --enable-unsafe-webgpu) or use a browser and machine with a WebGPU adapter.` : `The model could not be loaded: ${msg.message}`, msg.code === 'no-adapter' || msg.code === 'no-webgpu' ? { label: 'Try again', run: startWorker } : { label: 'Load the default bundle', run: () => ((source = { url: DEFAULT_BUNDLE }), startWorker()) })
      } else {
        if (msg.id === running) finish(`failed: ${msg.message}`)
        showBanner(`Generation failed: ${msg.message}`)
      }
      break
    case 'lost':
      setStatus('lost', `the GPU device was lost (${msg.message})`)
      if (running !== null) finish('stopped: the GPU device was lost')
      generateButton.disabled = true
      showBanner(`The GPU device was lost (${msg.message}). Your settings and results stay; restart the model to go on.`, { label: 'Restart the model', run: startWorker })
      break
  }
}

function finish(text: string): void {
  running = null
  progressText.textContent = text
  generateButton.disabled = false
  cancelButton.disabled = true
  results.dataset.state = text === 'cancelled' ? 'cancelled' : 'done'
}

// ---- model info and the plugin controls ----

function fillSelect(id: string, options: [string, string][], value: string): void {
  const select = $<HTMLSelectElement>(id)
  const keep = select.value
  select.replaceChildren(...options.map(([v, label]) => new Option(label, v)))
  select.value = options.some(([v]) => v === keep) && keep ? keep : value
}

function showModel(m: ModelInfo): void {
  const a = m.adapter
  setStatus('ready', `ready: ${m.model.source} — ${m.model.imageSize}×${m.model.imageSize} images, ${m.model.grid[0]}×${m.model.grid[1]} tokens, prior ${m.model.layers} layers × ${m.model.width}, ${m.model.hasClip ? 'CLIP reranker' : 'no CLIP'} · ${a.description || a.vendor || 'WebGPU adapter'}${a.software ? ' (software)' : ''}`)
  $('adapter').textContent = [`vendor: ${a.vendor}`, `architecture: ${a.architecture}`, `description: ${a.description}`, `software: ${a.software}`, `features: ${a.features.join(', ') || '(none)'}`, 'limits:', ...Object.entries(m.limits).map(([k, v]) => `  ${k}: ${v.toLocaleString('en')}`)].join('\n')
  const stages = new Set(['temperature', 'topK', 'topP'])
  fillSelect('sampler', [['', 'draw (default)'], ...m.plugins.sampler.filter((s) => !stages.has(s)).map((s): [string, string] => [s, s])], '')
  fillSelect('masks', [['', "prior's own"], ...m.plugins.schedules.map((s): [string, string] => [s, `schedule: ${s}`]), ...m.plugins.mask.map((s): [string, string] => [s, `every layer: ${s}`])], '')
  fillSelect('reranker', [['', m.model.hasClip && m.plugins.reranker.includes('clip') ? 'default (clip)' : 'default (none)'], ...m.plugins.reranker.map((s): [string, string] => [s, s])], '')
  for (const key of ['topK', 'topP', 'temperature', 'guidance'] as const) {
    const input = $<HTMLInputElement>(key)
    if (!input.dataset.touched) input.value = m.sampling[key] === undefined ? '' : String(m.sampling[key])
  }
}
for (const key of ['topK', 'topP', 'temperature', 'guidance']) $(key).addEventListener('input', (e) => ((e.target as HTMLElement).dataset.touched = '1'))

// ---- generate / cancel ----

function numberOf(id: string): number | undefined {
  const value = $<HTMLInputElement>(id).value.trim()
  return value === '' ? undefined : Number(value)
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  if (!info || running !== null) return
  const count = numberOf('count') ?? 1
  const request: GenerateRequest = {
    prompt: $<HTMLInputElement>('prompt').value,
    count,
    keep: Math.min(numberOf('keep') ?? count, count),
    seed: numberOf('seed') ?? 0,
    sampler: $<HTMLSelectElement>('sampler').value,
    topK: numberOf('topK'),
    topP: numberOf('topP'),
    temperature: numberOf('temperature'),
    guidance: numberOf('guidance'),
    masks: $<HTMLSelectElement>('masks').value,
    reranker: $<HTMLSelectElement>('reranker').value || undefined,
    ...(imagePrompt && { imagePrompt: { image: imagePrompt, keep: $<HTMLSelectElement>('region').value as 'top' | 'left', amount: numberOf('amount') ?? 0.5 } }),
  }
  running = ++runId
  startedAt = performance.now()
  banner.hidden = true
  generateButton.disabled = true
  cancelButton.disabled = false
  results.dataset.state = 'running'
  previews.replaceChildren()
  previews.dataset.updates = '0'
  progress.value = 0
  progressText.textContent = 'starting…'
  send({ type: 'generate', id: running, request })
})

cancelButton.addEventListener('click', () => {
  if (running === null) return
  send({ type: 'cancel', id: running })
  progressText.textContent = 'cancelling…'
})

function showResults(msg: Extract<FromWorker, { type: 'result' }>): void {
  const prompt = $<HTMLInputElement>('prompt').value
  const seed = numberOf('seed') ?? 0
  const cards = msg.images.map((image, i) => {
    const card = document.createElement('figure')
    card.className = 'card result'
    card.dataset.score = String(msg.scores[i])
    card.dataset.candidate = String(msg.candidates[i])
    card.dataset.tokens = msg.tokens[i]!.join(',')
    const canvas = canvasOf(image)
    const caption = document.createElement('figcaption')
    caption.textContent = `#${i + 1} · ${msg.reranker} ${Number.isFinite(msg.scores[i]) ? msg.scores[i]!.toFixed(2) : '—'} · candidate ${msg.candidates[i]! + 1}`
    const link = document.createElement('a')
    link.textContent = 'PNG'
    link.className = 'download'
    link.download = `${slug(prompt)}-s${seed}-${i + 1}.png`
    link.href = '#'
    canvas.toBlob((blob) => blob && (link.href = URL.createObjectURL(blob)), 'image/png')
    card.append(canvas, caption, link)
    return card
  })
  results.replaceChildren(...cards)
  results.dataset.runs = String(Number(results.dataset.runs) + 1)
}

// ---- image-to-image ----

$<HTMLInputElement>('image').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0]
  if (!file) return
  const bitmap = await createImageBitmap(file)
  const canvas = $<HTMLCanvasElement>('image-preview')
  canvas.width = bitmap.width
  canvas.height = bitmap.height
  const ctx = canvas.getContext('2d')!
  ctx.fillStyle = '#fff'
  ctx.fillRect(0, 0, bitmap.width, bitmap.height)
  ctx.drawImage(bitmap, 0, 0)
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height)
  imagePrompt = { width: data.width, height: data.height, data: data.data }
  canvas.hidden = false
})
$('clear-image').addEventListener('click', () => {
  imagePrompt = null
  $<HTMLInputElement>('image').value = ''
  $('image-preview').hidden = true
})

// ---- bundles ----

$('load-default').addEventListener('click', () => {
  source = { url: DEFAULT_BUNDLE }
  startWorker()
})
$<HTMLInputElement>('bundle-dir').addEventListener('change', (event) => {
  const picked = [...((event.target as HTMLInputElement).files ?? [])]
  if (picked.length === 0) return
  // loadBundle drops the picked folder's name in front of webkitRelativePath.
  source = { files: Object.fromEntries(picked.map((f) => [f.webkitRelativePath || f.name, f])) }
  startWorker()
})

if (hooks) Object.assign(window, { playground: { loseDevice: () => send({ type: 'lose-device' }) } })

// ---- train: fine-tune the prior on the user's images ----

const trainButton = $<HTMLButtonElement>('train')
const stopButton = $<HTMLButtonElement>('stop-training')
const exportButton = $<HTMLButtonElement>('export')
const trainStatus = $('train-status')
const lossPlot = $<HTMLCanvasElement>('loss-plot')
let pairs: { image: Rgba; caption: HTMLInputElement }[] = []
let training: number | null = null
let losses: number[] = []

async function rgbaOf(file: File): Promise<Rgba> {
  const bitmap = await createImageBitmap(file)
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
  const ctx = canvas.getContext('2d')!
  ctx.drawImage(bitmap, 0, 0)
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height)
  return { width: data.width, height: data.height, data: data.data }
}

$<HTMLInputElement>('train-images').addEventListener('change', async (event) => {
  const files = [...((event.target as HTMLInputElement).files ?? [])]
  pairs = []
  const cards: HTMLElement[] = []
  for (const file of files) {
    const image = await rgbaOf(file)
    const card = document.createElement('figure')
    card.className = 'card pair'
    const caption = document.createElement('input')
    caption.type = 'text'
    caption.className = 'caption'
    caption.value = file.name.replace(/\.[^.]+$/, '').replace(/[_-]+/g, ' ').replace(/\s+\d+$/, '')
    card.append(canvasOf(image), caption)
    cards.push(card)
    pairs.push({ image, caption })
  }
  $('train-pairs').replaceChildren(...cards)
  trainButton.disabled = pairs.length === 0 || !info
})

function drawLosses(): void {
  const ctx = lossPlot.getContext('2d')!
  const { width, height } = lossPlot
  ctx.clearRect(0, 0, width, height)
  if (losses.length === 0) return
  const [lo, hi] = [Math.min(...losses), Math.max(...losses)]
  const pad = 16
  const x = (i: number) => pad + (i / Math.max(1, losses.length - 1)) * (width - 2 * pad)
  const y = (v: number) => height - pad - ((v - lo) / (hi - lo || 1)) * (height - 2 * pad)
  ctx.strokeStyle = '#1565c0'
  ctx.lineWidth = 2
  ctx.beginPath()
  losses.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))))
  ctx.stroke()
  ctx.fillStyle = '#444'
  ctx.font = '11px system-ui'
  ctx.fillText(`loss ${hi.toFixed(3)}`, pad, 12)
  ctx.fillText(`${lo.toFixed(3)}`, pad, height - 3)
}

trainButton.addEventListener('click', () => {
  if (!info || training !== null || pairs.length === 0) return
  training = ++runId
  losses = []
  drawLosses()
  lossPlot.dataset.losses = ''
  trainStatus.dataset.state = 'running'
  trainStatus.textContent = 'encoding the images…'
  trainButton.disabled = true
  generateButton.disabled = true
  stopButton.disabled = false
  exportButton.disabled = true
  send({
    type: 'train',
    id: training,
    images: pairs.map((p) => p.image),
    captions: pairs.map((p) => p.caption.value.trim()),
    steps: Number($<HTMLInputElement>('train-steps').value) || 20,
    lr: Number($<HTMLInputElement>('train-lr').value) || 1e-3,
    batchSize: Number($<HTMLInputElement>('train-batch').value) || 4,
  })
})
stopButton.addEventListener('click', () => training !== null && send({ type: 'stop-training', id: training }))
exportButton.addEventListener('click', () => {
  exportButton.disabled = true
  send({ type: 'export', id: ++runId })
})

function onTrainMessage(msg: FromWorker): boolean {
  switch (msg.type) {
    case 'train-step':
      losses.push(msg.loss)
      lossPlot.dataset.losses = losses.map((l) => l.toFixed(5)).join(',')
      trainStatus.textContent = `step ${msg.step} / ${msg.steps}: loss ${msg.loss.toFixed(4)} (image ${msg.imageCe.toFixed(3)}, text ${msg.textCe.toFixed(3)} nats/token) · ${(msg.ms / 1000).toFixed(2)} s/step`
      drawLosses()
      return true
    case 'trained':
      training = null
      trainStatus.dataset.state = 'done'
      trainStatus.textContent = `${msg.stopped ? 'stopped after' : 'fine-tuned for'} ${msg.steps} steps${losses.length ? `: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}` : ''}. Generate above now samples from the fine-tuned prior.`
      trainButton.disabled = false
      generateButton.disabled = false
      stopButton.disabled = true
      exportButton.disabled = false
      return true
    case 'exported': {
      const link = document.createElement('a')
      link.href = URL.createObjectURL(new Blob([msg.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }))
      link.download = 'tessera-bundle-fine-tuned.zip'
      link.id = 'export-link'
      link.textContent = 'tessera-bundle-fine-tuned.zip'
      $('export-link')?.remove()
      trainStatus.after(link)
      link.click()
      exportButton.disabled = false
      return true
    }
    case 'error':
      if (msg.id !== undefined && msg.id === training) {
        training = null
        trainStatus.dataset.state = 'error'
        trainStatus.textContent = `training failed: ${msg.message}`
        trainButton.disabled = false
        generateButton.disabled = false
        stopButton.disabled = true
        return true
      }
      return false
    default:
      return false
  }
}

// ---- start ----

if (!('gpu' in navigator) || !navigator.gpu) {
  setStatus('error', 'WebGPU is not available in this browser')
  showBanner('WebGPU is not available in this browser (navigator.gpu is missing). Use a recent Chrome or Edge, or Firefox/Safari with WebGPU enabled; on Linux Chromium, start it with --enable-unsafe-webgpu.')
} else {
  startWorker()
}
