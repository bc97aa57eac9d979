// Where each shipped model's directory is, as a URL next to this module, so the same call works
// from the repository, from node_modules and in a browser (fetch files relative to the URL).
// Node: pass `fileURLToPath(modelUrl(name))` to loadBundle / loadDvae / loadClip.

/** Every shipped model by name, with the loader its directory is for. */
export const MODELS = Object.freeze({
  emoji: 'bundle',
  shapes: 'bundle',
  'dvae-emoji-32': 'dvae',
  'dvae-emoji-32-large': 'dvae',
  'clip-emoji': 'clip',
})

/** The default text-to-image bundle. */
export const DEFAULT_MODEL = 'emoji'

/**
 * An unknown model name. A RangeError (as before) carrying Tessera's error brand, so it is also
 * `instanceof TesseraError` of the other packages (this one depends on none of them).
 */
export class ModelNotFoundError extends RangeError {
  static code = 'model_not_found'
  code = 'model_not_found'
  constructor(message) {
    super(message)
    this.name = 'ModelNotFoundError'
  }
}
Object.defineProperty(ModelNotFoundError.prototype, Symbol.for('tessera.error'), { value: true })

export function modelUrl(name = DEFAULT_MODEL) {
  if (!Object.hasOwn(MODELS, name)) {
    throw new ModelNotFoundError(`@tessera/models has no model '${name}'; shipped: ${Object.keys(MODELS).join(', ')}`)
  }
  return new URL(`./${name}/`, import.meta.url)
}

/**
 * The shipped model of `kind` that `name` names, or undefined: its own name (dvae-emoji-32) or, as
 * token data written before the models moved here records its dVAE, the name without the kind
 * (emoji-32).
 */
export function shippedName(name, kind) {
  for (const candidate of [name, `${kind}-${name}`]) {
    if (Object.hasOwn(MODELS, candidate) && MODELS[candidate] === kind) return candidate
  }
  return undefined
}
