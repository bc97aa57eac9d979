/** Base class of the errors this package throws on purpose. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** An image whose size, layout or bytes do not fit what was asked for. */
export class ImageFormatError extends DatasetError {}
