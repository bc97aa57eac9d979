export { BundleError, BundleFormatError, BundleNotFoundError, MissingComponentError, CorruptComponentError, ComponentMismatchError, PromptTooLongError, DalleInputError, BundleSourceError, type ComponentName } from './errors.js'
export { BUNDLE_FORMAT, BUNDLE_VERSION, BUNDLE_MANIFEST, parseManifest, checkConfigs, type BundleManifest, type ComponentEntry, type TokenizerConfig, type SamplingDefaults } from './manifest.js'
export { directorySource, urlSource, fileMapSource, type BundleSource, type BundleFiles } from './source.js'
export { DalleBundle, loadBundle, saveBundle, PAD_TOKEN, type BundleLocation, type SaveBundleParts } from './bundle.js'
export { assembleBundle, type AssembleBundleOptions } from './assemble.js'
export { generateImages, samplerStages, type GenerateOptions, type GenerateResult, type GenerateProgress, type GenerationModels } from './generate.js'
export { regionMask, imageTokens, type ImagePromptInput } from './image-prompt.js'
export { GeneratedImages } from './images.js'
export { encodePrompt } from './prompt.js'

// The pipeline reranks with CLIP by name: importing @tessera/clip-rerank registers its 'clip'
// reranker (through the public registry), so a bundle with a clip component is reranked by default.
import '@tessera/clip-rerank'
