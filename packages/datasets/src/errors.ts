import { TesseraError } from '@tessera/errors'

/** Base class of the errors this package throws on purpose (a TesseraError). */
export class DatasetError extends TesseraError {
  static override readonly code: string = 'dataset'
}

/** An image whose size, layout or bytes do not fit what was asked for. */
export class ImageFormatError extends DatasetError {
  static override readonly code: string = 'image_format'
}

/** A PNG whose declared width × height exceeds the pixel limit (checked before anything is allocated). */
export class ImageTooLargeError extends ImageFormatError {
  static override readonly code: string = 'image_too_large'
  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(`the PNG declares ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} (pass a larger maxPixels to read it)`)
  }
}

/** A PNG whose bytes or image data end before what its header declares. */
export class ImageTruncatedError extends ImageFormatError {
  static override readonly code: string = 'image_truncated'
}
