import type { ImageCaptionDataset } from '../dataset.js'
import type { DatasetSplit } from '../split.js'
import { checkShapesImageSize, renderShapes } from './render.js'
import type { ShapesScene } from './scene.js'
import { resolveSceneOptions, sampleShapesScenes, type ShapesSceneOptions } from './scenes.js'

export interface ShapesOptions extends ShapesSceneOptions {
  /** Side of the square images in pixels (default 32). */
  imageSize?: number
}

export interface ShapesDataset extends ImageCaptionDataset {
  readonly split: DatasetSplit
  /** Each image's structured truth, in order: caption, what it says, where each shape is. */
  readonly scenes: readonly ShapesScene[]
}

/**
 * Seeded images of one or two coloured shapes on white with their captions and scenes.
 *
 * `makeShapesDataset({ count, imageSize, seed })` is the simple set ("a red circle", one
 * shape); `{ maxShapes: 2, sizeWords: 'some', split: 'train' }` the compositional one
 * ("a small red circle above a blue square"), whose held-out combinations (split.ts) only
 * `split: 'heldout'` shows.
 */
export function makeShapesDataset(opts: ShapesOptions): ShapesDataset {
  const imageSize = opts.imageSize ?? 32
  checkShapesImageSize(imageSize)
  const split = resolveSceneOptions(opts).split
  const scenes = sampleShapesScenes(opts)
  const planeSize = 3 * imageSize * imageSize
  const images = new Float32Array(scenes.length * planeSize)
  scenes.forEach((scene, i) => renderShapes(scene.shapes, imageSize, images, i * planeSize))
  return { imageSize, length: scenes.length, images, captions: scenes.map((s) => s.caption), split, scenes }
}
