"""Minimal safetensors writer/reader (the `safetensors` pip package is not required), shared by every
package's PyTorch scripts (they add python/ to sys.path); 0-d tensors stay 0-d (CLIP's logit_scale).

Format: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
"""
import json
import struct

import numpy as np

_DTYPES = {np.dtype('float32'): 'F32', np.dtype('int32'): 'I32', np.dtype('float16'): 'F16', np.dtype('uint32'): 'U32'}
_NUMPY = {v: k for k, v in _DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: numpy array or torch tensor}; names are kept exactly, in sorted order."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        value = tensors[name]
        array = value.detach().cpu().numpy() if hasattr(value, 'detach') else np.asarray(value)
        shape = list(array.shape)  # np.ascontiguousarray turns a 0-d array (logit_scale) into shape [1]
        array = np.ascontiguousarray(array)
        if array.dtype not in _DTYPES:
            raise TypeError(f'{name}: unsupported dtype {array.dtype} (use float32, float16, int32 or uint32)')
        data = array.astype(array.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': _DTYPES[array.dtype], 'shape': shape, 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (F32/F16/I32/U32)."""
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        body = f.read()
    header.pop('__metadata__', None)
    out = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        out[name] = np.frombuffer(body[start:end], dtype=_NUMPY[info['dtype']].newbyteorder('<')).reshape(info['shape'])
    return out
