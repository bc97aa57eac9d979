import { ClipConfigError } from './errors.js'

/**
 * CLIP's sizes with the names of OpenAI's `build_model` arguments, camelCased. Only the ViT
 * image tower is supported (OpenAI's `vision_layers` is a number here, not a ResNet tuple).
 */
export interface ClipConfig {
  /** Width of the joint embedding (the projections' output). */
  embedDim: number
  /** Side of the square input images. */
  imageResolution: number
  visionLayers: number
  visionWidth: number
  visionPatchSize: number
  /** Token rows the text tower reads (77 in OpenAI's models). */
  contextLength: number
  vocabSize: number
  transformerWidth: number
  transformerHeads: number
  transformerLayers: number
  /**
   * Heads of the image tower. OpenAI fixes it at visionWidth / 64 (the default); small models
   * need fewer than that rule gives (a width of 32 would get none).
   */
  visionHeads?: number
}

export type ResolvedClipConfig = Required<ClipConfig>

/** OpenAI's ViT-B/32 (the model DALL·E's paper reranked with). */
export const VIT_B_32: ResolvedClipConfig = {
  embedDim: 512,
  imageResolution: 224,
  visionLayers: 12,
  visionWidth: 768,
  visionPatchSize: 32,
  contextLength: 77,
  vocabSize: 49408,
  transformerWidth: 512,
  transformerHeads: 8,
  transformerLayers: 12,
  visionHeads: 12,
}

/**
 * A small CLIP for 32 px emoji that trains on a shared 2-core machine in about an hour: 4×4
 * patches of 8 px (17 image tokens), 3 layers of width 96; a text tower of width 64, 3 layers,
 * 20 tokens (the emoji labels' 99th percentile with a 1,024-id caption BPE is 19).
 * ~17 MFLOP per pair forward. Patches of 4 px at width 128 (the first plan) cost 140 MFLOP and
 * ran at ~2 pairs/s on lavapipe there.
 */
export const EMOJI_32: ResolvedClipConfig = {
  embedDim: 64,
  imageResolution: 32,
  visionLayers: 3,
  visionWidth: 96,
  visionPatchSize: 8,
  contextLength: 20,
  vocabSize: 1024,
  transformerWidth: 64,
  transformerHeads: 2,
  transformerLayers: 3,
  visionHeads: 2,
}

export const PRESETS = { 'ViT-B/32': VIT_B_32, 'emoji-32': EMOJI_32 } as const
export type PresetName = keyof typeof PRESETS

export function preset(name: string): ResolvedClipConfig {
  const p = (PRESETS as Record<string, ResolvedClipConfig>)[name]
  if (!p) throw new ClipConfigError(`unknown CLIP preset '${name}': use one of ${Object.keys(PRESETS).join(', ')}`)
  return { ...p }
}

const REQUIRED = ['embedDim', 'imageResolution', 'visionLayers', 'visionWidth', 'visionPatchSize', 'contextLength', 'vocabSize', 'transformerWidth', 'transformerHeads', 'transformerLayers'] as const

/** Checks every size and fills visionHeads; a ClipConfigError names the first bad field. */
export function resolveConfig(config: ClipConfig): ResolvedClipConfig {
  for (const key of REQUIRED) {
    const v = config[key]
    if (Array.isArray(v)) throw new ClipConfigError(`${key} is a list: ResNet image towers (OpenAI's RN50 family) are not supported, only ViT`)
    if (!Number.isInteger(v) || v < 1) throw new ClipConfigError(`CLIP config ${key} must be a positive integer, got ${JSON.stringify(v)}`)
  }
  const visionHeads = config.visionHeads ?? Math.floor(config.visionWidth / 64)
  const r: ResolvedClipConfig = { ...config, visionHeads }
  if (!Number.isInteger(visionHeads) || visionHeads < 1) throw new ClipConfigError(`visionHeads must be a positive integer (default visionWidth/64 = ${config.visionWidth / 64}); give it for a vision width under 64`)
  if (r.visionWidth % visionHeads) throw new ClipConfigError(`visionWidth ${r.visionWidth} is not divisible by visionHeads ${visionHeads}`)
  if (r.transformerWidth % r.transformerHeads) throw new ClipConfigError(`transformerWidth ${r.transformerWidth} is not divisible by transformerHeads ${r.transformerHeads}`)
  if (r.imageResolution % r.visionPatchSize) throw new ClipConfigError(`imageResolution ${r.imageResolution} is not a multiple of visionPatchSize ${r.visionPatchSize}`)
  if (r.contextLength < 2) throw new ClipConfigError(`contextLength must be at least 2 (start and end tokens), got ${r.contextLength}`)
  return r
}

/** Patches per side of the image grid. */
export function gridSize(config: ResolvedClipConfig): number {
  return config.imageResolution / config.visionPatchSize
}

/**
 * OpenAI's `build_model` reading of the sizes off a ViT state dict's shapes (names as OpenAI's).
 * visionHeads is visionWidth/64 and transformerHeads transformerWidth/64, as there: a state
 * dict cannot tell them, so models trained with other head counts keep their config in manifest.json.
 */
export function configFromStateDict(shapes: Record<string, { shape: readonly number[] }>): ResolvedClipConfig {
  const need = (name: string) => {
    const t = shapes[name]
    if (!t) throw new ClipConfigError(`state dict has no ${name}: ${'visual.proj' in shapes ? '' : 'not a ViT CLIP (ResNet towers are not supported); '}names found: ${Object.keys(shapes).slice(0, 8).join(', ')}…`)
    return t.shape
  }
  const conv = need('visual.conv1.weight')
  const grid = Math.round(Math.sqrt(need('visual.positional_embedding')[0]! - 1))
  const layers = (prefix: string) => new Set(Object.keys(shapes).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('.')[0])).size
  const width = need('ln_final.weight')[0]!
  need('visual.proj')
  return resolveConfig({
    embedDim: need('text_projection')[1]!,
    imageResolution: conv[3]! * grid,
    visionLayers: layers('visual.transformer.resblocks.'),
    visionWidth: conv[0]!,
    visionPatchSize: conv[3]!,
    contextLength: need('positional_embedding')[0]!,
    vocabSize: need('token_embedding.weight')[0]!,
    transformerWidth: width,
    transformerHeads: Math.max(1, Math.floor(width / 64)),
    transformerLayers: layers('transformer.resblocks.'),
    visionHeads: Math.max(1, Math.floor(conv[0]! / 64)),
  })
}
