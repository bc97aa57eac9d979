import { describe, expect, it } from 'vitest'
import {
  DatasetError,
  SHAPE_COLOUR_NAMES,
  SHAPE_KINDS,
  SHAPE_SIZE_RANGES,
  ShapesCaptionError,
  checkShapesImage,
  formatShapesCaption,
  imageAt,
  makeShapesDataset,
  planesToRgba,
  renderShapes,
  type ImagePlanes,
  type PlacedShape,
  type ShapeRelation,
  type ShapesScene,
} from '../src/index.js'
import { boxAround, placePair } from '../src/shapes/layout.js'
import { Mulberry32 } from '../src/random.js'
import { degrade, type Degradation } from './shapes-degrade.js'

/*
 * Measured (these tests: seed 11, 200 scenes per split and size, one or two shapes, every
 * size named, so sizes are checked too; corruptions on the first 100 of each):
 *
 *                           clean 32   clean 64   degraded 32   degraded 64   harsh 32   harsh 64
 *   training split           200/200    200/200      199/200       200/200     200/200    200/200
 *   held-out split           200/200    200/200      200/200       200/200     200/200    200/200
 *
 * and once with 1000 per split and size (500 corrupted): clean 4000/4000; degraded 997/1000 and
 * 997/1000 at 32 (every miss a small star read as a circle: a 3×3 blur fills most of an 8 px
 * star's notches), 2000/2000 at 64; harsh 998, 996 of 1000 at 32, 2000/2000 at 64.
 *
 * "degraded": a 3×3 box blur, Gaussian noise σ 0.03 and a per-image colour shift of up to
 * ±0.04 per channel (test/shapes-degrade.ts), a stand-in for a 32×32 dVAE's round trip;
 * "harsh": the blur twice, noise 0.05, shift 0.08.
 *
 * Rejected, of the corrupted images (clean, and degraded), 32 and 64 together, in these tests:
 * recolour 400/400 (400/400), rekind 400/400 (400/400), resize 400/400 (400/400), swap relation
 * 232/232 (232/232), remove a shape 400/400 (400/400), add a blob 400/400 (400/400), each for
 * the reason the corruption should give; with 500 per split and size: all 11,108 clean ones, and
 * all degraded ones but 2 of the 2000 rekinds.
 */

const SEED = 11
const PER_SPLIT = 200
/** Scenes per split and size that each corruption is applied to. */
const CORRUPTED_PER_SPLIT = 100
const RECONSTRUCTION: Degradation = { blur: true, noise: 0.03, shift: 0.04 }
/** Past what the checker is built for: the blur twice (σ ≈ 1.15 px), more noise, a larger shift. */
const HARSH: Degradation = { blur: true, blurs: 2, noise: 0.05, shift: 0.08 }

const planes = (data: Float32Array, size: number): ImagePlanes => ({ channels: 3, height: size, width: size, data })

function datasets() {
  return [32, 64].flatMap((size) =>
    (['train', 'heldout'] as const).map((split) => ({
      size,
      split,
      data: makeShapesDataset({ count: PER_SPLIT, imageSize: size, seed: SEED, split, maxShapes: 2, sizeWords: 'always' }),
    })),
  )
}

type Corruption = 'recolour' | 'rekind' | 'resize' | 'swap relation' | 'remove a shape' | 'add a blob'

const INVERSE: Record<ShapeRelation, ShapeRelation> = { above: 'below', below: 'above', 'left of': 'right of', 'right of': 'left of' }

/** The same shapes placed again for `relation` (first, second in the caption's order), sizes as given. */
function replace(shapes: PlacedShape[], relation: ShapeRelation, rng: Mulberry32): PlacedShape[] {
  const centres = placePair(shapes[0]!, shapes[1]!, relation, rng)
  return shapes.map((s, k) => ({ ...s, centre: centres[k]!, box: boxAround(s, centres[k]!) }))
}

function mirror(image: Float32Array, size: number): Float32Array {
  const out = new Float32Array(image.length)
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) out[c * size * size + y * size + x] = image[c * size * size + y * size + (size - 1 - x)]!
    }
  }
  return out
}

const same = (a: PlacedShape, b: PlacedShape) => a.kind === b.kind && a.colour === b.colour && a.size === b.size

/**
 * The scene's image made wrong in one way, or null where that corruption does not apply (a
 * relation to swap needs two shapes that differ, else the swapped image still fits the caption).
 * Each keeps everything else as drawn; `reason` is the part of the checker's answer that should
 * say what is wrong.
 */
function corrupt(scene: ShapesScene, size: number, how: Corruption, rng: Mulberry32): { image: Float32Array; reason: RegExp } | null {
  const shapes = scene.shapes
  const k = rng.int(shapes.length)
  const others = <T,>(all: readonly T[], not: T) => all.filter((x) => x !== not)
  switch (how) {
    case 'recolour': {
      const changed = shapes.map((s, i) => (i === k ? { ...s, colour: rng.pick(others(SHAPE_COLOUR_NAMES, s.colour)) } : s))
      return { image: renderShapes(changed, size), reason: /wrong colour/ }
    }
    case 'rekind': {
      // Another kind drawn in its place, same extent and centre.
      const changed = shapes.map((s, i) => (i === k ? { ...s, kind: rng.pick(others(SHAPE_KINDS, s.kind)) } : s))
      return { image: renderShapes(changed, size), reason: /wrong kind/ }
    }
    case 'resize': {
      // The other size class, then placed again so the pair still fits the relation.
      const flipped = shapes.map((s, i) => {
        if (i !== k) return s
        const size = s.size === 'small' ? ('large' as const) : ('small' as const)
        const [lo, hi] = SHAPE_SIZE_RANGES[size]
        return { ...s, size, extent: lo + (hi - lo) * rng.next() }
      })
      const placed = shapes.length === 2 ? replace(flipped, scene.description.relation!, rng) : flipped
      return { image: renderShapes(placed, size), reason: /wrong size/ }
    }
    case 'swap relation': {
      if (shapes.length !== 2 || same(shapes[0]!, shapes[1]!)) return null
      const relation = scene.description.relation!
      // Left/right: the mirror image (every kind is symmetric left to right). Above/below: placed
      // again the other way up, since flipping the image would turn triangles and stars over too.
      if (relation === 'left of' || relation === 'right of') return { image: mirror(renderShapes(shapes, size), size), reason: /expected the .* (left|right) of/ }
      return { image: renderShapes(replace(shapes, INVERSE[relation], rng), size), reason: /expected the .* (above|below)/ }
    }
    case 'remove a shape':
      return { image: renderShapes(others(shapes, shapes[k]!), size), reason: /expected \d shapes?, found/ }
    case 'add a blob': {
      // A disk or square of a palette colour, 0.12–0.2 of the image across, clear of the shapes.
      const extent = 0.12 + 0.08 * rng.next()
      for (let attempt = 0; attempt < 200; attempt++) {
        const centre = { x: 0.03 + extent / 2 + (0.94 - extent) * rng.next(), y: 0.03 + extent / 2 + (0.94 - extent) * rng.next() }
        const clear = shapes.every((s) => centre.x + extent / 2 + 0.06 < s.box.left || centre.x - extent / 2 - 0.06 > s.box.right || centre.y + extent / 2 + 0.06 < s.box.top || centre.y - extent / 2 - 0.06 > s.box.bottom)
        if (!clear) continue
        const blob = { kind: rng.pick(['circle', 'square'] as const), colour: rng.pick(SHAPE_COLOUR_NAMES), extent, centre }
        return { image: renderShapes([...shapes, blob], size), reason: /expected \d shapes?, found/ }
      }
      return null
    }
  }
}

describe('checkShapesImage on the dataset', () => {
  const sets = datasets()

  it('accepts ≥ 99% of freshly drawn images of both splits at 32 and 64, and ≥ 95% after blur, noise and a colour shift', () => {
    const rates: string[] = []
    for (const { size, split, data } of sets) {
      let clean = 0
      let degraded = 0
      let harsh = 0
      const failures: string[] = []
      for (let i = 0; i < data.length; i++) {
        const result = checkShapesImage(imageAt(data, i), data.captions[i]!)
        if (result.ok) clean++
        else failures.push(`${data.captions[i]}: ${result.reasons.join('; ')}`)
        if (checkShapesImage(planes(degrade(imageAt(data, i).data, size, { ...RECONSTRUCTION, seed: i }), size), data.captions[i]!).ok) degraded++
        if (checkShapesImage(planes(degrade(imageAt(data, i).data, size, { ...HARSH, seed: i }), size), data.captions[i]!).ok) harsh++
      }
      rates.push(`${split} ${size}: clean ${clean}/${data.length}, degraded ${degraded}/${data.length}, harsh ${harsh}/${data.length}`)
      expect(clean / data.length, `${split} ${size}: ${failures.slice(0, 3).join(' | ')}`).toBeGreaterThanOrEqual(0.99)
      expect(degraded / data.length, `${split} ${size} degraded`).toBeGreaterThanOrEqual(0.95)
      // Not a goal, a tripwire: a change that makes the checker brittle shows here first.
      expect(harsh / data.length, `${split} ${size} harsh`).toBeGreaterThanOrEqual(0.9)
    }
    console.log(`shapes checker acceptance:\n  ${rates.join('\n  ')}`)
  })

  it('rejects images made wrong in one way, saying what is wrong', () => {
    const corruptions: Corruption[] = ['recolour', 'rekind', 'resize', 'swap relation', 'remove a shape', 'add a blob']
    const rng = new Mulberry32(SEED)
    const lines: string[] = []
    for (const how of corruptions) {
      const tally = { tried: 0, rejected: 0, rightReason: 0, rejectedDegraded: 0 }
      const missed: string[] = []
      for (const { size, data } of sets) {
        data.scenes.slice(0, CORRUPTED_PER_SPLIT).forEach((scene, i) => {
          const wrong = corrupt(scene, size, how, rng)
          if (!wrong) return
          tally.tried++
          const result = checkShapesImage(planes(wrong.image, size), scene.caption)
          if (!result.ok) tally.rejected++
          else missed.push(`${scene.caption} (${size})`)
          if (result.reasons.some((r) => wrong.reason.test(r))) tally.rightReason++
          if (!checkShapesImage(planes(degrade(wrong.image, size, { ...RECONSTRUCTION, seed: i }), size), scene.caption).ok) tally.rejectedDegraded++
        })
      }
      lines.push(`${how}: ${tally.rejected}/${tally.tried} rejected (${tally.rightReason} for that reason), ${tally.rejectedDegraded}/${tally.tried} degraded`)
      expect(tally.tried, how).toBeGreaterThan(150)
      expect(tally.rejected / tally.tried, `${how}: accepted ${missed.slice(0, 3).join(' | ')}`).toBeGreaterThanOrEqual(0.99)
      expect(tally.rightReason / tally.tried, how).toBeGreaterThanOrEqual(0.97)
      expect(tally.rejectedDegraded / tally.tried, `${how} degraded`).toBeGreaterThanOrEqual(0.97)
    }
    console.log(`shapes checker rejection:\n  ${lines.join('\n  ')}`)
  })
})

describe('checkShapesImage', () => {
  const S = 32
  const circle = { kind: 'circle', colour: 'red', extent: 0.28, centre: { x: 0.5, y: 0.25 } } as const
  const square = { kind: 'square', colour: 'blue', extent: 0.41, centre: { x: 0.45, y: 0.7 } } as const
  const caption = 'a small red circle above a large blue square'

  it('reads a drawn scene back: kinds, colours, sizes, centres and the relation', () => {
    const result = checkShapesImage(planes(renderShapes([circle, square], S), S), caption)
    expect(result.reasons).toEqual([])
    expect(result.ok).toBe(true)
    expect(result.relation).toBe('above')
    expect(result.found.map((f) => [f.kind, f.colour, f.size])).toEqual([['circle', 'red', 'small'], ['square', 'blue', 'large']])
    expect(result.found[0]!.extent).toBeCloseTo(0.28, 2)
    expect(result.found[1]!.centre.x).toBeCloseTo(0.45, 2)
    expect(result.found[1]!.centre.y).toBeCloseTo(0.7, 2)
    // The same from the description and from 8-bit RGBA (a decoded PNG).
    const image = renderShapes([circle, square], S)
    const rgba = planesToRgba({ channels: 3, height: S, width: S, data: image })
    expect(checkShapesImage(rgba, caption).found).toHaveLength(2)
    expect(checkShapesImage(rgba, caption).ok).toBe(true)
    expect(checkShapesImage(planes(image, S), result.expected)).toEqual(result)
  })

  it('says what is wrong in words', () => {
    const recoloured = checkShapesImage(planes(renderShapes([{ ...circle, colour: 'orange' }, square], S), S), caption)
    expect(recoloured.ok).toBe(false)
    expect(recoloured.reasons).toEqual(['the first shape: expected small red circle, found a small orange circle at (0.50, 0.25) (wrong colour)'])
    const swapped = checkShapesImage(planes(renderShapes([circle, square], S), S), 'a small red circle below a large blue square')
    expect(swapped.reasons).toEqual(['expected the circle below the square, found the circle above the square (centres (0.50, 0.25) and (0.45, 0.70))'])
    const alone = checkShapesImage(planes(renderShapes([square], S), S), caption)
    expect(alone.reasons).toEqual(['expected 2 shapes, found 1: a large blue square at (0.45, 0.70)'])
    expect(checkShapesImage(planes(renderShapes([], S), S), 'a red star').reasons).toEqual(['expected 1 shape, found 0: nothing'])
  })

  it('pairs identical shapes either way, ignores specks, and refuses diagonals, off-palette blobs and bad input', () => {
    const twins = [{ ...square, colour: 'red', centre: { x: 0.25, y: 0.5 } }, { ...square, colour: 'red', centre: { x: 0.75, y: 0.5 } }] as const
    expect(checkShapesImage(planes(renderShapes(twins, S), S), 'a red square left of a red square').ok).toBe(true)
    expect(checkShapesImage(planes(renderShapes(twins, S), S), 'a red square right of a red square').ok).toBe(true)
    expect(checkShapesImage(planes(renderShapes(twins, S), S), 'a red square above a red square').ok).toBe(false)

    // A 1.5 px dot (2.3 px², under the 6 px² of minBlobArea at 32×32) is a speck.
    const speck = { kind: 'circle', colour: 'black', extent: 0.047, centre: { x: 0.9, y: 0.9 } } as const
    expect(checkShapesImage(planes(renderShapes([circle, square, speck], S), S), caption).ok).toBe(true)
    expect(checkShapesImage(planes(renderShapes([circle, square, { ...speck, extent: 0.1 }], S), S), caption).ok).toBe(false)

    // 45° apart: neither above nor left of.
    const diagonal = renderShapes([{ ...circle, centre: { x: 0.25, y: 0.25 } }, { ...square, extent: 0.3, centre: { x: 0.72, y: 0.72 } }], S)
    const d = checkShapesImage(planes(diagonal, S), 'a small red circle above a small blue square')
    expect(d.relation).toBe(null)
    expect(d.reasons).toEqual([expect.stringMatching(/found no clear relation/)])

    // A cyan disk where the circle should be: ink far from every palette colour's line to white.
    // (A pale pastel blob would read as a faint palette colour under half coverage: background.)
    const cyan = renderShapes([square], S)
    const n = S * S
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if ((x + 0.5 - 16) ** 2 + (y + 0.5 - 8) ** 2 <= 16) [0, 0.75, 0.8].forEach((v, c) => (cyan[c * n + y * S + x] = v))
      }
    }
    const offPalette = checkShapesImage(planes(cyan, S), 'a red circle above a large blue square')
    expect(offPalette.ok).toBe(false)
    expect(offPalette.found.map((f) => f.colour)).toEqual(['off-palette', 'blue'])
    expect(offPalette.reasons).toContainEqual(expect.stringMatching(/^the first shape: expected red circle, found a small off-palette circle .* \(wrong colour\)$/))

    // A red ellipse twice as wide as high is none of the four kinds, though nearest a circle.
    const ellipse = renderShapes([], S)
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (((x + 0.5 - 16) / 8) ** 2 + ((y + 0.5 - 16) / 4) ** 2 <= 1) [0.86, 0.08, 0.08].forEach((v, c) => (ellipse[c * n + y * S + x] = v))
      }
    }
    const oval = checkShapesImage(planes(ellipse, S), 'a red circle')
    expect(oval.found.map((f) => [f.colour, f.kind])).toEqual([['red', 'circle']])
    expect(oval.reasons).toEqual([expect.stringMatching(/^the shape: expected red circle, found a blob that is no clear shape \(nearest: circle, mismatch 0\.\d\d > 0.25\)$/)])

    expect(() => checkShapesImage({ channels: 3, height: 4, width: 8, data: new Float32Array(96) }, 'a red star')).toThrow(DatasetError)
    expect(() => checkShapesImage({ width: 4, height: 4, data: new Uint8Array(10) }, 'a red star')).toThrow(DatasetError)
    expect(() => checkShapesImage(planes(renderShapes([], S), S), 'a red hexagon')).toThrow(ShapesCaptionError)
    expect(formatShapesCaption(checkShapesImage(planes(renderShapes([], S), S), 'A red star.').expected)).toBe('a red star')
  })
})
