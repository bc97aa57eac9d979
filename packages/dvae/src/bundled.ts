/** Models shipped inside this package (under models/). */
export const BUNDLED_MODELS = ['emoji-32'] as const
export type BundledModel = (typeof BUNDLED_MODELS)[number]

/**
 * Where a shipped model's weights directory is, as a URL next to this module (works from
 * src/ and dist/ alike): in Node pass `fileURLToPath(url)` to `loadDvae`; in a browser fetch
 * `encoder.safetensors` and `decoder.safetensors` relative to it.
 */
export function bundledModelUrl(name: BundledModel = 'emoji-32'): URL {
  return new URL(`../models/${name}/`, import.meta.url)
}
