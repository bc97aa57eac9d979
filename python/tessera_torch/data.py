"""Tessera's dataset files, read (and written) in Python:

- token datasets (@tessera/prior packTokenDataset: `train.tokens` / `heldout.tokens` from
  packages/prior/scripts/prepare-emoji.mjs): one JSON header line {format 'tessera-token-dataset',
  version 1, imageLength, captions, ...meta}, then the image tokens as little-endian i32;
- packed image datasets (@tessera/datasets packDataset / savePackedDataset: `<base>.json` +
  `<base>.u8`, from packages/datasets/scripts/pack-emoji.mjs): 8-bit NCHW pixels, read as
  f32 = u8 / 255 exactly as unpackDataset computes it (in f64, rounded once). The pixels are
  memory-mapped, so a dataset larger than memory works.
"""
import json
import os

import numpy as np


class TokenDataset:
    def __init__(self, captions, image_tokens, image_length, meta=None):
        image_tokens = np.asarray(image_tokens, dtype=np.int32).reshape(len(captions), image_length)
        self.captions, self.image_tokens, self.image_length, self.meta = list(captions), image_tokens, image_length, meta or {}

    def __len__(self):
        return len(self.captions)


def read_token_dataset(path):
    with open(path, 'rb') as f:
        data = f.read()
    nl = data.index(b'\n')
    try:
        header = json.loads(data[:nl].decode('utf-8'))
    except ValueError as error:
        raise ValueError(f'{path} is not a token dataset: the first line is not a JSON header ({error})') from None
    if header.get('format') != 'tessera-token-dataset' or header.get('version') != 1:
        raise ValueError(f"{path} is not a token dataset (format {header.get('format')!r}, version {header.get('version')!r})")
    body = data[nl + 1:]
    if len(body) % 4:
        raise ValueError(f'{path} is truncated: its token bytes are not whole i32s')
    captions, image_length = header.pop('captions'), header.pop('imageLength')
    header.pop('format'), header.pop('version')
    tokens = np.frombuffer(body, dtype='<i4')
    if tokens.size != len(captions) * image_length:
        raise ValueError(f'{path}: {len(captions)} captions need {len(captions) * image_length} image tokens, the file holds {tokens.size}')
    return TokenDataset(captions, tokens.astype(np.int32), image_length, header)


def write_token_dataset(path, dataset, meta=None):
    header = {'format': 'tessera-token-dataset', 'version': 1, 'imageLength': dataset.image_length, 'captions': dataset.captions, **(meta or dataset.meta)}
    with open(path, 'wb') as f:
        f.write((json.dumps(header, separators=(',', ':'), ensure_ascii=False) + '\n').encode('utf-8'))
        f.write(np.ascontiguousarray(dataset.image_tokens, dtype='<i4').tobytes())


class PackedImages:
    """A packed image dataset: `images(indices)` gives f32 [n, 3, S, S] in [0, 1]."""

    def __init__(self, base):
        with open(base + '.json', encoding='utf-8') as f:
            header = json.load(f)
        if header.get('format') != 'tessera-packed-images' or header.get('version') != 1:
            raise ValueError(f"{base}.json is not a packed image header (format {header.get('format')!r}, version {header.get('version')!r})")
        self.image_size, self.length, self.captions = header['imageSize'], header['length'], header['captions']
        expected = self.length * 3 * self.image_size ** 2
        actual = os.path.getsize(base + '.u8')
        if actual != expected:
            raise ValueError(f'{base}.u8 holds {actual} bytes, the header describes {expected} ({self.length} x 3 x {self.image_size}^2)')
        self.pixels = np.memmap(base + '.u8', dtype=np.uint8, mode='r', shape=(self.length, 3, self.image_size, self.image_size))

    def __len__(self):
        return self.length

    def images(self, indices):
        return (self.pixels[np.asarray(indices, dtype=np.int64)].astype(np.float64) / 255).astype(np.float32)


def write_packed_images(base, pixels_u8, captions):
    pixels_u8 = np.ascontiguousarray(pixels_u8, dtype=np.uint8)
    n, c, s, _ = pixels_u8.shape
    assert c == 3 and len(captions) == n
    pixels_u8.tofile(base + '.u8')
    with open(base + '.json', 'w', encoding='utf-8') as f:
        json.dump({'format': 'tessera-packed-images', 'version': 1, 'imageSize': s, 'length': n, 'captions': list(captions)}, f)
