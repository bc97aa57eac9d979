/** Models shipped inside this package (under models/); emoji-32 is the default: small and fast. */
export const BUNDLED_MODELS = ['emoji-32', 'emoji-32-large'] as const
export type BundledModel = (typeof BUNDLED_MODELS)[number]

/**
 * Where a shipped model's weights directory is, as a URL next to this module (works from
 * src/ and dist/ alike): in Node pass `fileURLToPath(url)` to `loadDvae`; in a browser fetch
 * `encoder.safetensors` and `decoder.safetensors` relative to it.
 */
export function bundledModelUrl(name: BundledModel = 'emoji-32'): URL {
  return new URL(`../models/${name}/`, import.meta.url)
}
