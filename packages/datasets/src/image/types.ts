/**
 * Interleaved 8-bit RGBA pixels, row-major: the layout of the DOM's ImageData and of
 * pngjs, so a browser `ImageData` can be passed wherever this is accepted.
 */
export interface RgbaImage {
  width: number
  height: number
  data: Uint8Array | Uint8ClampedArray
}

/** Float planes, channel-major ([C, H, W] row-major), values nominally in [0, 1]. */
export interface ImagePlanes {
  channels: number
  height: number
  width: number
  data: Float32Array
}
