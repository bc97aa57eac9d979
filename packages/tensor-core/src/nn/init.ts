/**
 * Parameter initialisation on the host with a seeded generator, so a model starts from the
 * same numbers on every backend (and tests can build the same model twice).
 */
export class HostRandom {
  private state: number
  private spare: number | null = null

  constructor(seed = 0) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Standard normal (Box–Muller, pairs cached). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    const u = 1 - this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
}

let defaultRandom = new HostRandom(0)

/** Reseeds the generator layers use when none is given. */
export function manualSeed(seed: number): void {
  defaultRandom = new HostRandom(seed)
}

export function getDefaultRandom(): HostRandom {
  return defaultRandom
}

export function uniform(n: number, low: number, high: number, rng = defaultRandom): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * rng.next()
  return out
}

export function normal(n: number, mean: number, std: number, rng = defaultRandom): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal()
  return out
}

/** fan_in and fan_out of a weight of shape [out, in, ...kernel] (PyTorch's convention). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1)
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: shape[0]! * receptive }
}

/** torch.nn.init.kaiming_uniform_(w, a=√5): PyTorch's default for Linear and Conv weights. */
export function kaimingUniform(shape: readonly number[], rng = defaultRandom, a = Math.sqrt(5)): Float32Array {
  const { fanIn } = fans(shape)
  const gain = Math.sqrt(2 / (1 + a * a))
  const bound = gain * Math.sqrt(3 / fanIn)
  return uniform(shape.reduce((x, y) => x * y, 1), -bound, bound, rng)
}

export function xavierUniform(shape: readonly number[], rng = defaultRandom, gain = 1): Float32Array {
  const { fanIn, fanOut } = fans(shape)
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut))
  return uniform(shape.reduce((x, y) => x * y, 1), -bound, bound, rng)
}

/** PyTorch's default bias init for Linear/Conv: U(−1/√fan_in, 1/√fan_in). */
export function biasUniform(n: number, fanIn: number, rng = defaultRandom): Float32Array {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0
  return uniform(n, -bound, bound, rng)
}
