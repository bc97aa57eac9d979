/** What loads a shipped model's directory: `loadBundle` (@tessera/dalle), `loadDvae` (@tessera/dvae), `loadClip` (@tessera/clip-rerank). */
export type ModelKind = 'bundle' | 'dvae' | 'clip'

export declare const MODELS: Readonly<{
  emoji: 'bundle'
  shapes: 'bundle'
  'dvae-emoji-32': 'dvae'
  'dvae-emoji-32-large': 'dvae'
  'clip-emoji': 'clip'
}>
export type ModelName = keyof typeof MODELS

/** The default text-to-image bundle. */
export declare const DEFAULT_MODEL: 'emoji'

/** An unknown model name: a RangeError that is also a TesseraError (code 'model_not_found'). */
export declare class ModelNotFoundError extends RangeError {
  static readonly code: 'model_not_found'
  readonly code: 'model_not_found'
  constructor(message: string)
}

/** The model's directory as a URL (file: in Node, http(s) when served); an unknown name throws ModelNotFoundError listing the shipped ones. */
export declare function modelUrl(name?: ModelName): URL

/** The shipped model of `kind` that `name` names (dvae-emoji-32, or emoji-32 as older token data records it), or undefined. */
export declare function shippedName(name: string, kind: ModelKind): ModelName | undefined
