import { Mulberry32 } from '../src/random.js'

/**
 * What a lossy reconstruction does to a shapes image, for robustness tests: a 3×3 box blur
 * (edges spread over ~3 px, as a 32×32 dVAE's do), Gaussian noise and a per-image colour shift.
 */
export interface Degradation {
  blur?: boolean
  /** How many times the 3×3 blur is applied (default 1). */
  blurs?: number
  /** Standard deviation of per-pixel, per-channel noise. */
  noise?: number
  /** Each channel of the whole image moves by a uniform draw in [−shift, shift]. */
  shift?: number
  seed?: number
}

export function degrade(planes: Float32Array, size: number, d: Degradation): Float32Array {
  const n = size * size
  let out = Float32Array.from(planes)
  for (let pass = 0; d.blur && pass < (d.blurs ?? 1); pass++) {
    const blurred = new Float32Array(out.length)
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          let sum = 0
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              // Edge pixels repeat (the background continues past the border).
              const yy = Math.min(size - 1, Math.max(0, y + dy))
              const xx = Math.min(size - 1, Math.max(0, x + dx))
              sum += out[c * n + yy * size + xx]!
            }
          }
          blurred[c * n + y * size + x] = sum / 9
        }
      }
    }
    out = blurred
  }
  const rng = new Mulberry32(d.seed ?? 0)
  const shift = [0, 1, 2].map(() => (d.shift ?? 0) * (2 * rng.next() - 1))
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = out[c * n + i]! + shift[c]! + (d.noise ? d.noise * gauss() : 0)
      out[c * n + i] = Math.min(1, Math.max(0, v))
    }
  }
  return out
}
