"""Tessera's training checkpoints (tensor-core src/train/checkpoint.ts, io/node-checkpoint.ts), read
and written by the PyTorch trainers, so a run moves between Tessera and PyTorch in both directions:

    DIR/checkpoint.safetensors        current; DIR/checkpoint.prev.safetensors: the one before
    tensors   model.<state-dict name>             the weights
              optim.<param name>.exp_avg          AdamW's moments (what torch.optim.AdamW calls them too)
              optim.<param name>.exp_avg_sq
    metadata  tessera.format = "1"
              tessera.state  = JSON {step, random: {seed, offset}, optimizer: {step, lr, kind: 'adamw'},
                                     extra: {sampler: {seed, epoch, cursor}, recipe: {...}, ...}}
              tessera.checksums = JSON {algorithm: 'sha256', state: sha256(state JSON),
                                     tensors: {name: sha256("DTYPE[d0,d1,...]\n" + bytes as stored)}}

Saving: the new file is written to a temp file and fsynced, current is renamed to prev, the temp
file to current, and the directory fsynced; loading takes current, else prev (a crash at any point
leaves one of them whole), as Tessera's loadCheckpoint. Both sides write the checksums and check
them when present (files written before they existed load unchecked).
"""
import hashlib
import json
import os
import struct

from .safetensors import encode_safetensors, fsync_directory, read_safetensors_with_metadata, write_temp_file

CHECKPOINT_FILE = 'checkpoint.safetensors'
PREVIOUS_CHECKPOINT_FILE = 'checkpoint.prev.safetensors'
FORMAT_KEY, STATE_KEY, CHECKSUMS_KEY, FORMAT_VERSION = 'tessera.format', 'tessera.state', 'tessera.checksums', '1'


class CheckpointError(Exception):
    pass


def save_checkpoint(directory, tensors, state):
    """tensors {name: numpy/torch}, state (JSON-serialisable) → DIR/checkpoint.safetensors, atomically."""
    os.makedirs(directory, exist_ok=True)
    metadata = {FORMAT_KEY: FORMAT_VERSION, STATE_KEY: json.dumps(state, separators=(',', ':'))}
    # Lay the file out once to learn each tensor's stored dtype, shape and bytes; digest them; lay it out again with the digests.
    draft = encode_safetensors(tensors, metadata)
    metadata[CHECKSUMS_KEY] = json.dumps(_checksums(draft, metadata[STATE_KEY]), separators=(',', ':'))
    data = encode_safetensors(tensors, metadata)
    current = os.path.join(directory, CHECKPOINT_FILE)
    # Written in full (and fsynced) under a temp name first; then current → prev, temp → current.
    temp = write_temp_file(current, data)
    if os.path.exists(current):
        os.replace(current, os.path.join(directory, PREVIOUS_CHECKPOINT_FILE))
    os.replace(temp, current)
    fsync_directory(directory)


def load_checkpoint(directory):
    """(tensors {name: numpy}, state, path) of the newest loadable checkpoint in DIR; None when it has none."""
    skipped = []
    for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            continue
        try:
            tensors, metadata = read_safetensors_with_metadata(path)
            if metadata.get(FORMAT_KEY) != FORMAT_VERSION:
                raise CheckpointError(f'unsupported checkpoint format {metadata.get(FORMAT_KEY)!r} (expected {FORMAT_VERSION!r})')
            if STATE_KEY not in metadata:
                raise CheckpointError(f"checkpoint has no '{STATE_KEY}' metadata")
            if CHECKSUMS_KEY in metadata:
                with open(path, 'rb') as f:
                    expected = json.loads(metadata[CHECKSUMS_KEY])
                    if _checksums(f.read(), metadata[STATE_KEY]) != expected:
                        raise CheckpointError('its tensors or state do not match their checksums')
            return tensors, json.loads(metadata[STATE_KEY]), path
        except Exception as error:  # a torn or corrupt file: fall back to prev, as Tessera does
            skipped.append(f'{path}: {error}')
    if skipped:
        raise CheckpointError(f'no loadable checkpoint in {directory} ({"; ".join(skipped)})')
    return None


def split_tensors(tensors):
    """{'model': {name: t}, 'optim': {param: {'exp_avg': t, 'exp_avg_sq': t}}} of a checkpoint's tensors."""
    model, optim = {}, {}
    for name, t in tensors.items():
        if name.startswith('model.'):
            model[name[len('model.'):]] = t
        elif name.startswith('optim.'):
            param, slot = name[len('optim.'):].rsplit('.', 1)
            optim.setdefault(param, {})[slot] = t
    return model, optim


def join_tensors(model, optim):
    out = {f'model.{name}': t for name, t in model.items()}
    for param, slots in optim.items():
        for slot, t in slots.items():
            out[f'optim.{param}.{slot}'] = t
    return out


def _sha256(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode('utf-8') if isinstance(part, str) else part)
    return h.hexdigest()


def _checksums(file_bytes, state_json):
    """tensor-core's checksum list of a safetensors file's tensors (as stored) and of its state JSON."""
    (length,) = struct.unpack('<Q', file_bytes[:8])
    header = json.loads(file_bytes[8:8 + length])
    body = memoryview(file_bytes)[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        start, end = entry['data_offsets']
        tensors[name] = _sha256(f"{entry['dtype']}[{','.join(str(d) for d in entry['shape'])}]\n", body[start:end])
    return {'algorithm': 'sha256', 'state': _sha256(state_json), 'tensors': tensors}
