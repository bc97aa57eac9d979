#!/usr/bin/python3
"""Converts OpenAI's released dVAE (dall_e's encoder.pkl / decoder.pkl) to a Tessera weights
directory: encoder.safetensors and decoder.safetensors with the state-dict names unchanged
(blocks.input.w, blocks.group_1.block_1.res_path.conv_1.w, ...) plus manifest.json with the
config read off the tensor shapes.

    /usr/bin/python3 convert_openai_dvae.py --encoder encoder.pkl --decoder decoder.pkl --out DIR

Needs PyTorch, but not the dall_e package: its classes are unpickled as plain nn.Modules,
which is all a state dict needs. `--self-test DIR` pickles a small model the way OpenAI's
files were made, converts it, and writes DIR/reference.safetensors (an input and the
PyTorch encoder logits) for the TypeScript side to compare against.
"""
import argparse
import json
import os
import re
import sys
import types

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch import dvae as dvae_torch  # noqa: E402
from tessera_torch.safetensors import write_safetensors  # noqa: E402

# Modules the pickles name: dall_e.{encoder,decoder,utils} (bare names from a source checkout).
_DALL_E_MODULES = ['dall_e', 'dall_e.encoder', 'dall_e.decoder', 'dall_e.utils', 'encoder', 'decoder', 'utils']


class _UnpickledModule(nn.Module):
    """Stands in for dall_e's Encoder, Decoder, EncoderBlock, DecoderBlock and Conv2d."""


class _StandIn(types.ModuleType):
    """A module whose every attribute is _UnpickledModule (pickle looks classes up by name)."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _UnpickledModule


def _unpickle_without_dall_e(path):
    # torch.load's pickle_module argument is not honoured by every build, so the stand-ins
    # go into sys.modules for the duration of the load, and the previous entries come back.
    saved = {name: sys.modules.get(name) for name in _DALL_E_MODULES}
    sys.modules.update({name: _StandIn(name) for name in _DALL_E_MODULES})
    try:
        return torch.load(path, map_location='cpu')
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def load_state_dict(path):
    obj = _unpickle_without_dall_e(path)
    state = obj.state_dict() if isinstance(obj, nn.Module) else obj
    if 'blocks.input.w' not in state:
        raise SystemExit(f'{path}: no blocks.input.w in its state dict; is this dall_e encoder.pkl / decoder.pkl? names: {list(state)[:5]}')
    return {name: t.detach().float().contiguous() for name, t in state.items()}


def config_from(encoder, decoder):
    groups = sorted({int(m.group(1)) for n in encoder for m in [re.match(r'blocks\.group_(\d+)\.', n)] if m})
    blocks = {int(m.group(1)) for n in encoder for m in [re.match(r'blocks\.group_1\.block_(\d+)\.', n)] if m}
    n_hid, channels = encoder['blocks.input.w'].shape[:2]
    vocab = encoder['blocks.output.conv.w'].shape[0]
    n_init = decoder['blocks.input.w'].shape[0]
    # OpenAI's model is for 256×256 images (the layers accept any multiple of 2^(groups−1)).
    image_size = 256
    return {'groupCount': len(groups), 'nHid': int(n_hid), 'nBlkPerGroup': len(blocks), 'channels': int(channels),
            'vocabSize': int(vocab), 'nInit': int(n_init), 'imageSize': image_size}


def convert(encoder_path, decoder_path, out, source):
    encoder, decoder = load_state_dict(encoder_path), load_state_dict(decoder_path)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'encoder.safetensors'), encoder)
    write_safetensors(os.path.join(out, 'decoder.safetensors'), decoder)
    config = config_from(encoder, decoder)
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump({'format': 'tessera-dvae', 'version': 1, 'config': config, 'source': source}, f, indent=2)
        f.write('\n')
    return config


def self_test(out):
    """Pickles tessera_torch.dvae modules under dall_e's module names (as torch.save did for OpenAI), converts them."""
    fake = {name: types.ModuleType(name) for name in ['dall_e', 'dall_e.encoder', 'dall_e.decoder', 'dall_e.utils']}
    renamed = {}
    for module_name, cls in [('dall_e.encoder', dvae_torch.Encoder), ('dall_e.decoder', dvae_torch.Decoder),
                             ('dall_e.encoder', dvae_torch.Block), ('dall_e.utils', dvae_torch.Conv2d)]:
        clone = type(cls.__name__, (cls,), {'__module__': module_name})
        setattr(fake[module_name], cls.__name__, clone)
        renamed[cls] = clone
    sys.modules.update(fake)
    try:
        config = {'groupCount': 4, 'nHid': 8, 'nBlkPerGroup': 2, 'channels': 3, 'vocabSize': 64, 'nInit': 8, 'imageSize': 32}
        enc, dec = dvae_torch.build(config, torch.Generator().manual_seed(7))
        for model in (enc, dec):
            for module in model.modules():
                if type(module) in renamed:
                    module.__class__ = renamed[type(module)]
        os.makedirs(out, exist_ok=True)
        torch.save(enc, os.path.join(out, 'encoder.pkl'))
        torch.save(dec, os.path.join(out, 'decoder.pkl'))
    finally:
        for name in fake:
            del sys.modules[name]
    got = convert(os.path.join(out, 'encoder.pkl'), os.path.join(out, 'decoder.pkl'), out, 'convert_openai_dvae.py --self-test')
    assert got == {**config, 'imageSize': 256}, got
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        logits = enc(0.8 * x + 0.1)
    write_safetensors(os.path.join(out, 'reference.safetensors'), {'images': x, 'logits': logits})
    print(f'self-test: converted {out}/encoder.pkl, decoder.pkl → safetensors, config {got}')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--encoder', help="dall_e's encoder.pkl")
    parser.add_argument('--decoder', help="dall_e's decoder.pkl")
    parser.add_argument('--out', help='output weights directory')
    parser.add_argument('--self-test', metavar='DIR', help='pickle a small model as OpenAI did, convert it into DIR')
    args = parser.parse_args()
    if args.self_test:
        self_test(args.self_test)
    elif args.encoder and args.decoder and args.out:
        config = convert(args.encoder, args.decoder, args.out, 'OpenAI dall_e encoder.pkl / decoder.pkl')
        print(f'wrote {args.out}: {config}')
    else:
        parser.error('give --encoder, --decoder and --out (or --self-test DIR)')


if __name__ == '__main__':
    main()
