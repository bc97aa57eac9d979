/** Models shipped inside this package (under models/). */
export const BUNDLED_MODELS = ['emoji-clip'] as const
export type BundledModel = (typeof BUNDLED_MODELS)[number]

/**
 * Where a shipped model's weights directory is, as a URL next to this module (works from src/
 * and dist/ alike): in Node pass `fileURLToPath(url)` to `loadClip`; in a browser fetch
 * `clip.safetensors`, `tokenizer.json` and `manifest.json` relative to it.
 */
export function bundledModelUrl(name: BundledModel = 'emoji-clip'): URL {
  return new URL(`../models/${name}/`, import.meta.url)
}
