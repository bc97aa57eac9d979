"""Minimal safetensors writer/reader (the `safetensors` pip package is not required), shared by every
package's PyTorch scripts (they add python/ to sys.path); 0-d tensors stay 0-d (CLIP's logit_scale).

Format: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
"""
import json
import os
import secrets
import struct

import numpy as np

_DTYPES = {np.dtype('float32'): 'F32', np.dtype('int32'): 'I32', np.dtype('float16'): 'F16', np.dtype('uint32'): 'U32'}
_NUMPY = {v: k for k, v in _DTYPES.items()}


def encode_safetensors(tensors, metadata=None):
    """The bytes of a safetensors file: tensors {name: numpy array or torch tensor}, names kept exactly, in sorted order."""
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
    return b''.join([struct.pack('<Q', len(text)), text, *chunks])


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: numpy array or torch tensor}; names are kept exactly, in sorted order."""
    with open(path, 'wb') as f:
        f.write(encode_safetensors(tensors, metadata))


def write_temp_file(path, data):
    """Writes `data` to a fresh temp file beside `path` (named as tensor-core's, `.NAME.tmp-PID-HEX`,
    so its stale-temp cleanup knows ours) and fsyncs it; returns the temp path."""
    directory, name = os.path.split(os.path.abspath(path))
    temp = os.path.join(directory, f'.{name}.tmp-{os.getpid()}-{secrets.token_hex(6)}')
    try:
        with open(temp, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return temp


def write_file_atomic(path, data):
    """Replaces `path` with `data` so a reader (or a crash) sees the old file or the whole new one:
    a fsynced temp file renamed over `path`, then the directory fsynced."""
    os.replace(write_temp_file(path, data), path)
    fsync_directory(os.path.dirname(os.path.abspath(path)))


def fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_safetensors_atomic(path, tensors, metadata=None):
    write_file_atomic(path, encode_safetensors(tensors, metadata))


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (F32/F16/I32/U32)."""
    return read_safetensors_with_metadata(path)[0]


def read_safetensors_with_metadata(path):
    """({name: numpy array}, {metadata key: value}) of a safetensors file."""
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        body = f.read()
    metadata = header.pop('__metadata__', None) or {}
    out = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        if info['dtype'] not in _NUMPY:
            raise TypeError(f"{path}: {name} is {info['dtype']}; this reader takes {', '.join(sorted(_NUMPY))}")
        out[name] = np.frombuffer(body[start:end], dtype=_NUMPY[info['dtype']].newbyteorder('<')).reshape(info['shape'])
    return out, metadata
