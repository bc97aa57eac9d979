import { DatasetError } from '../errors.js'
import { Mulberry32 } from '../random.js'
import { checkSplit, type DatasetSplit } from '../split.js'
import { formatShapesCaption, type ShapeDescription, type ShapesCaption } from './grammar.js'
import { boxAround, placeAlone, placePair } from './layout.js'
import type { PlacedShape, ShapesScene } from './scene.js'
import { shapesSplitOf } from './split.js'
import { SHAPE_COLOUR_NAMES, SHAPE_KINDS, SHAPE_RELATIONS, SHAPE_SIZE_RANGES, SHAPE_SIZES } from './vocabulary.js'

/** How captions treat sizes: never name them, always, or each shape's with probability ½. */
export type SizeWords = 'never' | 'always' | 'some'

export interface ShapesSceneOptions {
  count: number
  seed?: number
  /** 'train': no scene contains a held-out combination (split.ts); 'heldout': every scene contains at least one; 'all' (default): unfiltered. */
  split?: DatasetSplit
  /** Fewest shapes per image, 1 (default) or 2. */
  minShapes?: 1 | 2
  /** Most shapes per image, 1 (default) or 2; the count is uniform between the two. */
  maxShapes?: 1 | 2
  /** Default 'never': "a red circle". */
  sizeWords?: SizeWords
}

interface ResolvedOptions {
  count: number
  seed: number
  split: DatasetSplit
  minShapes: 1 | 2
  maxShapes: 1 | 2
  sizeWords: SizeWords
}

export function resolveSceneOptions(opts: ShapesSceneOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    count: opts.count,
    seed: opts.seed ?? 0,
    split: opts.split ?? 'all',
    minShapes: opts.minShapes ?? 1,
    maxShapes: opts.maxShapes ?? Math.max(1, opts.minShapes ?? 1) as 1 | 2,
    sizeWords: opts.sizeWords ?? 'never',
  }
  if (!Number.isInteger(resolved.count) || resolved.count < 1) throw new DatasetError(`shapes count must be a positive integer, got ${opts.count}`)
  checkSplit(resolved.split, 0)
  if (![1, 2].includes(resolved.minShapes) || ![1, 2].includes(resolved.maxShapes) || resolved.minShapes > resolved.maxShapes) {
    throw new DatasetError(`shapes per image: minShapes and maxShapes must be 1 or 2 with minShapes ≤ maxShapes, got ${opts.minShapes} and ${opts.maxShapes}`)
  }
  if (!['never', 'always', 'some'].includes(resolved.sizeWords)) throw new DatasetError(`sizeWords must be 'never', 'always' or 'some', got '${opts.sizeWords}'`)
  return resolved
}

// Far more than any split needs: the rarest case, a held-out single shape, is 1 draw in 7.
const MAX_DRAWS_PER_SCENE = 10_000

/**
 * Seeded scenes without pixels: captions, what they say, and where each shape goes. Every
 * choice is uniform (shape count, kind, colour, size class, extent within the class,
 * relation, position), then scenes outside the requested split are drawn again. The same
 * options always give the same scenes.
 */
export function sampleShapesScenes(opts: ShapesSceneOptions): ShapesScene[] {
  const o = resolveSceneOptions(opts)
  const rng = new Mulberry32(o.seed)
  const scenes: ShapesScene[] = []
  for (let i = 0; i < o.count; i++) {
    let scene = drawScene(rng, o)
    for (let draws = 1; o.split !== 'all' && shapesSplitOf(scene.description) !== o.split; draws++) {
      if (draws >= MAX_DRAWS_PER_SCENE) throw new DatasetError(`no ${o.split} scene in ${draws} draws`)
      scene = drawScene(rng, o)
    }
    scenes.push(scene)
  }
  return scenes
}

function drawScene(rng: Mulberry32, o: ResolvedOptions): ShapesScene {
  const count = o.minShapes + rng.int(o.maxShapes - o.minShapes + 1)
  const drawn = Array.from({ length: count }, () => {
    const size = rng.pick(SHAPE_SIZES)
    const [lo, hi] = SHAPE_SIZE_RANGES[size]
    return {
      kind: rng.pick(SHAPE_KINDS),
      colour: rng.pick(SHAPE_COLOUR_NAMES),
      size,
      sizeNamed: o.sizeWords === 'always' || (o.sizeWords === 'some' && rng.next() < 0.5),
      extent: lo + (hi - lo) * rng.next(),
    }
  })
  const relation = count === 2 ? rng.pick(SHAPE_RELATIONS) : undefined
  const centres = relation ? placePair(drawn[0]!, drawn[1]!, relation, rng) : [placeAlone(drawn[0]!, rng)]
  const shapes: PlacedShape[] = drawn.map((s, k) => ({ ...s, centre: centres[k]!, box: boxAround(s, centres[k]!) }))
  const words = shapes.map((s): ShapeDescription => (s.sizeNamed ? { kind: s.kind, colour: s.colour, size: s.size } : { kind: s.kind, colour: s.colour }))
  const description: ShapesCaption = relation ? { shapes: [words[0]!, words[1]!], relation } : { shapes: [words[0]!] }
  return { caption: formatShapesCaption(description), description, shapes }
}
