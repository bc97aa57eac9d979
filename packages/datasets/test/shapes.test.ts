import { describe, expect, it } from 'vitest'
import {
  CHECKED_MAX_CROSS_RATIO,
  DatasetError,
  GENERATED_MAX_CROSS_RATIO,
  HELD_OUT_ARRANGEMENTS,
  HELD_OUT_COLOUR_KINDS,
  LAYOUT_GAP,
  LAYOUT_MARGIN,
  SHAPE_COLOUR_NAMES,
  SHAPE_COLOURS,
  SHAPE_KINDS,
  SHAPE_RELATIONS,
  SHAPE_SIZE_RANGES,
  ShapesCaptionError,
  enumerateShapesCaptions,
  formatShapesCaption,
  heldOutCombinations,
  imageAt,
  makeShapesDataset,
  parseShapesCaption,
  planesToRgba,
  relationBetween,
  renderShapes,
  sampleShapesScenes,
  shapesSplitOf,
  type ShapesScene,
} from '../src/index.js'

describe('shapes captions', () => {
  it('parse back to what they were made from, for every caption the dataset can write', () => {
    const all = enumerateShapesCaptions({ maxShapes: 2, sizeWords: 'some' })
    // 84 one-shape captions (unsized, small, large × 7 colours × 4 kinds) and 84² × 4 relations.
    expect(all.length).toBe(84 + 84 * 84 * 4)
    expect(new Set(all).size).toBe(all.length)
    for (const caption of all) expect(formatShapesCaption(parseShapesCaption(caption))).toBe(caption)
    expect(all).toContain('a small red circle above a blue square')
    expect(all).toContain('an orange star right of a large black triangle')
    expect(parseShapesCaption('a blue triangle left of a yellow circle')).toEqual({
      shapes: [{ kind: 'triangle', colour: 'blue' }, { kind: 'circle', colour: 'yellow' }],
      relation: 'left of',
    })
  })

  it('forgive case, spacing, a final full stop and a/an, and name the first word outside the grammar', () => {
    expect(parseShapesCaption('  A  Large GREEN star. ')).toEqual({ shapes: [{ kind: 'star', colour: 'green', size: 'large' }] })
    expect(parseShapesCaption('an red circle')).toEqual({ shapes: [{ kind: 'circle', colour: 'red' }] })
    const cases: [string, number, RegExp][] = [
      ['a red hexagon', 2, /expected a kind .* at word 3, got "hexagon"/],
      ['a pink circle', 1, /expected a colour/],
      ['red circle', 0, /expected "a" or "an"/],
      ['a red circle beside a blue square', 3, /expected a relation/],
      ['a red circle left a blue square', 4, /expected "of"/],
      ['a red circle above', 4, /after the last word/],
      ['a red circle above a blue square and a star', 7, /expected the end of the caption/],
      ['a huge red circle', 1, /expected a colour/],
      ['', 0, /after the last word/],
    ]
    for (const [caption, word, message] of cases) {
      let error: unknown
      try {
        parseShapesCaption(caption)
      } catch (e) {
        error = e
      }
      expect(error, caption).toBeInstanceOf(ShapesCaptionError)
      expect(error, caption).toBeInstanceOf(DatasetError)
      expect((error as ShapesCaptionError).word, caption).toBe(word)
      expect((error as Error).message, caption).toMatch(message)
      expect((error as Error).message).toMatch(/The grammar: /)
    }
  })
})

describe('shapes dataset', () => {
  it('is deterministic per seed and its default is the one-shape set without sizes', () => {
    const a = makeShapesDataset({ count: 40, imageSize: 16, seed: 3 })
    const b = makeShapesDataset({ count: 40, imageSize: 16, seed: 3 })
    const c = makeShapesDataset({ count: 40, imageSize: 16, seed: 4 })
    expect(Array.from(a.images)).toEqual(Array.from(b.images))
    expect(a.scenes).toEqual(b.scenes)
    expect(Array.from(a.images)).not.toEqual(Array.from(c.images))
    expect(a.images.length).toBe(40 * 3 * 16 * 16)
    for (const caption of a.captions) expect(caption).toMatch(/^an? (red|orange|yellow|green|blue|purple|black) (circle|square|triangle|star)$/)
    expect(a.split).toBe('all')
    expect(imageAt(a, 39).data).toEqual(a.images.subarray(39 * 768))
    expect(() => imageAt(a, 40)).toThrow(DatasetError)
    expect(makeShapesDataset({ count: 1 }).imageSize).toBe(32)
    expect(() => makeShapesDataset({ count: 0 })).toThrow(DatasetError)
    expect(() => makeShapesDataset({ count: 2, imageSize: 3 })).toThrow(DatasetError)
    expect(() => makeShapesDataset({ count: 2, minShapes: 2, maxShapes: 1 })).toThrow(/minShapes/)
    expect(() => makeShapesDataset({ count: 2, sizeWords: 'often' as never })).toThrow(/sizeWords/)
    expect(() => makeShapesDataset({ count: 2, split: 'test' as never })).toThrow(/split/)
  })

  it('draws what each scene says: the colour at each shape\'s centre, white corners, captions that parse to the description', () => {
    const d = makeShapesDataset({ count: 200, imageSize: 32, seed: 1, maxShapes: 2, sizeWords: 'some' })
    const n = 32 * 32
    d.scenes.forEach((scene, i) => {
      expect(parseShapesCaption(d.captions[i]!)).toEqual(scene.description)
      expect(scene.caption).toBe(d.captions[i])
      const image = imageAt(d, i).data
      expect([image[0], image[31], image[n - 1]]).toEqual([1, 1, 1])
      scene.shapes.forEach((shape, k) => {
        expect(shape.kind).toBe(scene.description.shapes[k]!.kind)
        expect(shape.colour).toBe(scene.description.shapes[k]!.colour)
        expect(scene.description.shapes[k]!.size).toBe(shape.sizeNamed ? shape.size : undefined)
        // Every kind covers the centre of its box (the star's body, the triangle's middle).
        const p = Math.floor(shape.centre.y * 32) * 32 + Math.floor(shape.centre.x * 32)
        const rgb = [image[p]!, image[n + p]!, image[2 * n + p]!]
        for (let ch = 0; ch < 3; ch++) expect(rgb[ch]).toBeCloseTo(SHAPE_COLOURS[shape.colour][ch]!, 5)
      })
    })
    // 'some' names about half the sizes; 'always' all of them; one and two shapes both occur.
    const named = d.scenes.flatMap((s) => s.shapes).filter((s) => s.sizeNamed).length / d.scenes.flatMap((s) => s.shapes).length
    expect(named).toBeGreaterThan(0.4)
    expect(named).toBeLessThan(0.6)
    expect(d.scenes.some((s) => s.shapes.length === 1) && d.scenes.some((s) => s.shapes.length === 2)).toBe(true)
    const two = makeShapesDataset({ count: 20, imageSize: 8, minShapes: 2, sizeWords: 'always' })
    expect(two.scenes.every((s) => s.shapes.length === 2 && s.description.shapes.every((x) => x.size !== undefined))).toBe(true)
  })

  it('lays two shapes out so the relation is unambiguous: inside the margins, apart along the axis, near the axis across it', () => {
    const scenes = sampleShapesScenes({ count: 3000, seed: 9, minShapes: 2, maxShapes: 2 })
    let tightest = Infinity
    for (const { shapes, description } of scenes) {
      const [a, b] = shapes as [ShapesScene['shapes'][0], ShapesScene['shapes'][0]]
      for (const s of shapes) {
        expect(s.box.left).toBeGreaterThanOrEqual(LAYOUT_MARGIN - 1e-9)
        expect(s.box.top).toBeGreaterThanOrEqual(LAYOUT_MARGIN - 1e-9)
        expect(s.box.right).toBeLessThanOrEqual(1 - LAYOUT_MARGIN + 1e-9)
        expect(s.box.bottom).toBeLessThanOrEqual(1 - LAYOUT_MARGIN + 1e-9)
        const [lo, hi] = SHAPE_SIZE_RANGES[s.size]
        expect(s.extent).toBeGreaterThanOrEqual(lo)
        expect(s.extent).toBeLessThanOrEqual(hi)
        expect(Math.max(s.box.right - s.box.left, s.box.bottom - s.box.top)).toBeCloseTo(s.extent, 12)
      }
      const relation = description.relation!
      // The stricter rule the generator keeps, and so the checker's looser one too.
      expect(relationBetween(a.centre, b.centre, GENERATED_MAX_CROSS_RATIO)).toBe(relation)
      expect(relationBetween(a.centre, b.centre, CHECKED_MAX_CROSS_RATIO)).toBe(relation)
      const gap =
        relation === 'above' ? b.box.top - a.box.bottom
        : relation === 'below' ? a.box.top - b.box.bottom
        : relation === 'left of' ? b.box.left - a.box.right
        : a.box.left - b.box.right
      tightest = Math.min(tightest, gap)
      // Each centre lies within the other shape's span across the axis.
      const vertical = relation === 'above' || relation === 'below'
      const [ca, cb] = vertical ? [a.centre.x, b.centre.x] : [a.centre.y, b.centre.y]
      const span = (s: typeof a) => (vertical ? [s.box.left, s.box.right] : [s.box.top, s.box.bottom])
      expect(ca).toBeGreaterThanOrEqual(span(b)[0]! - 1e-9)
      expect(ca).toBeLessThanOrEqual(span(b)[1]! + 1e-9)
      expect(cb).toBeGreaterThanOrEqual(span(a)[0]! - 1e-9)
      expect(cb).toBeLessThanOrEqual(span(a)[1]! + 1e-9)
    }
    expect(tightest).toBeGreaterThanOrEqual(LAYOUT_GAP - 1e-9)
    // Every relation and both size classes occur, including two large shapes side by side.
    expect(new Set(scenes.map((s) => s.description.relation))).toEqual(new Set(SHAPE_RELATIONS))
    expect(scenes.some((s) => s.shapes.every((x) => x.size === 'large') && s.description.relation === 'left of')).toBe(true)
  })
})

describe('shapes held-out split', () => {
  const parse = (c: string) => parseShapesCaption(c)

  it('keeps every held-out combination out of training, while each of its parts is seen there', () => {
    const train = enumerateShapesCaptions({ split: 'train', maxShapes: 2, sizeWords: 'never' }).map(parse)
    const heldout = enumerateShapesCaptions({ split: 'heldout', maxShapes: 2, sizeWords: 'never' }).map(parse)
    expect(train.length + heldout.length).toBe(28 + 28 * 28 * 4)
    expect(train.every((c) => heldOutCombinations(c).length === 0)).toBe(true)
    expect(heldout.every((c) => heldOutCombinations(c).length > 0)).toBe(true)

    const trainPairs = new Set(train.flatMap((c) => c.shapes.map((s) => `${s.colour} ${s.kind}`)))
    expect(trainPairs.size).toBe(28 - HELD_OUT_COLOUR_KINDS.length)
    for (const [colour, kind] of HELD_OUT_COLOUR_KINDS) {
      expect(trainPairs.has(`${colour} ${kind}`)).toBe(false)
      expect(train.some((c) => c.shapes.some((s) => s.colour === colour))).toBe(true)
      expect(train.some((c) => c.shapes.some((s) => s.kind === kind))).toBe(true)
      expect(heldout.some((c) => c.shapes.length === 1 && c.shapes[0].colour === colour && c.shapes[0].kind === kind)).toBe(true)
    }
    const arrangement = (c: (typeof train)[number]) => {
      if (c.shapes.length === 1) return null
      const [a, b] = c.shapes
      // Normalised: "a square below a circle" is "circle above square".
      if (c.relation === 'below') return `${b.kind} above ${a.kind}`
      if (c.relation === 'right of') return `${b.kind} left of ${a.kind}`
      return `${a.kind} ${c.relation} ${b.kind}`
    }
    const trainArrangements = new Set(train.map(arrangement))
    for (const held of HELD_OUT_ARRANGEMENTS) {
      expect(trainArrangements.has(`${held.first} ${held.relation} ${held.second}`)).toBe(false)
      // Its parts: the first kind in that relation to another kind, and some kind in it to the second.
      expect([...trainArrangements].some((a) => a?.startsWith(`${held.first} ${held.relation} `))).toBe(true)
      expect([...trainArrangements].some((a) => a?.endsWith(` ${held.relation} ${held.second}`))).toBe(true)
      // And the swapped arrangement is seen: only this order is held out.
      expect(trainArrangements.has(`${held.second} ${held.relation} ${held.first}`)).toBe(true)
      expect(heldOutCombinations(parse(`a red ${held.second} ${held.relation === 'above' ? 'below' : 'right of'} a blue ${held.first}`))).toEqual([`${held.first} ${held.relation} ${held.second}`])
    }
    expect(shapesSplitOf(parse('a purple star'))).toBe('heldout')
    expect(shapesSplitOf(parse('a purple circle left of a red star'))).toBe('train')
  })

  it('samples each split from its own combinations', () => {
    const train = makeShapesDataset({ count: 300, imageSize: 8, seed: 2, split: 'train', maxShapes: 2 })
    const held = makeShapesDataset({ count: 300, imageSize: 8, seed: 2, split: 'heldout', maxShapes: 2 })
    expect(train.scenes.every((s) => shapesSplitOf(s.description) === 'train')).toBe(true)
    expect(held.scenes.every((s) => shapesSplitOf(s.description) === 'heldout')).toBe(true)
    const heldCaptions = new Set(enumerateShapesCaptions({ split: 'heldout', maxShapes: 2 }))
    expect(held.captions.every((c) => heldCaptions.has(c))).toBe(true)
    expect(train.captions.some((c) => heldCaptions.has(c))).toBe(false)
    expect(held.split).toBe('heldout')
    // Both kinds of held-out combination are drawn.
    const reasons = held.scenes.flatMap((s) => heldOutCombinations(s.description))
    for (const [colour, kind] of HELD_OUT_COLOUR_KINDS) expect(reasons).toContain(`${colour} ${kind}`)
    for (const a of HELD_OUT_ARRANGEMENTS) expect(reasons).toContain(`${a.first} ${a.relation} ${a.second}`)
  })
})

describe('shapes vocabulary', () => {
  it('has a palette whose colours are far apart and far from white', () => {
    const names = SHAPE_COLOUR_NAMES
    let closest = Infinity
    for (let i = 0; i < names.length; i++) {
      const a = SHAPE_COLOURS[names[i]!]
      expect(Math.hypot(1 - a[0], 1 - a[1], 1 - a[2])).toBeGreaterThan(0.85)
      for (let j = i + 1; j < names.length; j++) {
        const b = SHAPE_COLOURS[names[j]!]
        closest = Math.min(closest, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]))
      }
    }
    expect(closest).toBeGreaterThan(0.42)
    expect(SHAPE_KINDS).toEqual(['circle', 'square', 'triangle', 'star'])
  })

  it('renders the star as a five-pointed star: five tips around a body, notches between them', () => {
    const size = 64
    const image = renderShapes([{ kind: 'star', colour: 'black', extent: 0.8, centre: { x: 0.5, y: 0.5 } }], size)
    // Walk a circle around the star's centre at 70% of its outer radius: ink on the 5 arms, white between.
    const outer = (0.8 * size) / (2 * Math.sin((2 * Math.PI) / 5))
    const cy = 0.5 * size - ((0.8 * size) / 2) * ((1 + Math.cos(Math.PI / 5)) / (2 * Math.sin((2 * Math.PI) / 5))) + outer
    const inked = Array.from({ length: 360 }, (_, step) => {
      const angle = (step * Math.PI) / 180
      const x = Math.floor(32 + 0.7 * outer * Math.sin(angle))
      const y = Math.floor(cy - 0.7 * outer * Math.cos(angle))
      return image[y * size + x]! < 0.5
    })
    // Arms = white-to-ink transitions around the circle (it wraps).
    const arms = inked.filter((ink, i) => ink && !inked[(i + 359) % 360]).length
    expect(arms).toBe(5)
    // The body is solid: its centre is inked.
    expect(image[Math.floor(cy) * size + 32]!).toBeLessThan(0.1)
  })
})
