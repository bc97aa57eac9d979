// Messages between the page (main.ts) and the model's module worker (worker.ts).

/** 8-bit RGBA, as ImageData holds it (structured-cloneable). */
export interface Rgba {
  width: number
  height: number
  data: Uint8ClampedArray
}

export interface GenerateRequest {
  prompt: string
  count: number
  keep: number
  seed: number
  /** A sampler plugin applied after temperature / top-k / top-p (e.g. 'greedy'); '' for the default draw. */
  sampler: string
  topK?: number
  topP?: number
  temperature?: number
  guidance?: number
  /** A mask schedule or one mask for every layer; '' for the prior's own. */
  masks: string
  reranker?: string
  imagePrompt?: { image: Rgba; keep: 'top' | 'left'; amount: number }
}

export interface ModelInfo {
  adapter: { vendor: string; architecture: string; description: string; software: boolean; features: string[] }
  limits: Record<string, number>
  plugins: { sampler: string[]; mask: string[]; reranker: string[]; schedules: string[] }
  sampling: { topK?: number; topP?: number; temperature?: number; guidance?: number }
  model: { source: string; imageSize: number; grid: [number, number]; textLength: number; layers: number; width: number; hasClip: boolean; note?: string }
}

export type ToWorker =
  | { type: 'load'; url?: string; files?: Record<string, File> }
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'cancel'; id: number }
  | { type: 'train'; id: number; images: Rgba[]; captions: string[]; steps: number; lr: number; batchSize: number }
  | { type: 'stop-training'; id: number }
  | { type: 'export'; id: number }
  /** Test hook: destroys the GPUDevice as a driver reset would lose it. */
  | { type: 'lose-device' }

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'progress'; id: number; done: number; total: number; images: Rgba[] }
  | { type: 'result'; id: number; images: Rgba[]; scores: number[]; candidates: number[]; tokens: number[][]; seconds: number; reranker: string }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id?: number; code?: string; message: string; fatal: boolean }
  | { type: 'lost'; message: string }
  | { type: 'train-step'; id: number; step: number; steps: number; loss: number; imageCe: number; textCe: number; ms: number }
  | { type: 'trained'; id: number; steps: number; stopped: boolean }
  | { type: 'exported'; id: number; zip: Uint8Array }
