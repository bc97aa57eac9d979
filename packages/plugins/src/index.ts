export { CONTRACT_VERSIONS, type PluginKind, type AnyPlugin, type PluginOfKind } from './contracts.js'
export type {
  AttentionMaskPlugin,
  MaskGeometry,
  SamplerPlugin,
  SamplerStage,
  SamplerContext,
  RerankerPlugin,
  Reranker,
  TextTokenizerPlugin,
  TextTokenizer,
  ImageTokenizerPlugin,
  ImageTokenizer,
} from './contracts.js'
export { PluginNotFoundError, PluginError } from './errors.js'
export { registerPlugin, getPlugin, listPlugins, unregisterPlugin, type RegisterOptions } from './registry.js'
export { BUILTIN_MASKS, MASK_SCHEDULES, dalleMaskSchedule, type MaskSpec } from './masks.js'
export { BUILTIN_SAMPLERS, resolveSampler, type Sampler, type SamplerSpec } from './samplers.js'
export { NONE_RERANKER } from './rerankers.js'

import { BUILTIN_MASKS } from './masks.js'
import { NONE_RERANKER } from './rerankers.js'
import { registerPlugin } from './registry.js'
import { BUILTIN_SAMPLERS } from './samplers.js'

// Built-ins register through the public path, like any third-party plugin. `ifAbsent`: a second
// copy of this package finds them already there (the registry is shared through globalThis).
for (const plugin of [...BUILTIN_MASKS, ...BUILTIN_SAMPLERS, NONE_RERANKER]) registerPlugin(plugin, { ifAbsent: true })
