import { planesToRgba, type ImagePlanes, type RgbaImage } from '@tessera/datasets'

/** Images on the host: f32 NCHW in [0, 1], with per-image views. */
export class GeneratedImages {
  constructor(
    /** [count, channels, size, size], row-major. */
    readonly pixels: Float32Array,
    readonly count: number,
    readonly channels: number,
    readonly size: number,
  ) {}

  get shape(): [number, number, number, number] {
    return [this.count, this.channels, this.size, this.size]
  }

  /** Image i as float planes [C, S, S] (a view, not a copy). */
  planes(i: number): ImagePlanes {
    const n = this.channels * this.size * this.size
    return { channels: this.channels, height: this.size, width: this.size, data: this.pixels.subarray(i * n, (i + 1) * n) }
  }

  /** Image i as 8-bit RGBA (opaque): for encodePng, or `new ImageData(data, size)` in a browser. */
  rgba(i: number): RgbaImage {
    return planesToRgba(this.planes(i))
  }
}
