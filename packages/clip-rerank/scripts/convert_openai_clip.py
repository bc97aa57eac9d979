#!/usr/bin/python3
"""Converts an OpenAI CLIP checkpoint (the TorchScript archives `clip.load` downloads, e.g.
ViT-B-32.pt) or an open_clip one (a state dict, or {'state_dict': ...} with DataParallel's
'module.' prefixes) with a ViT image tower to a Tessera weights directory:

    /usr/bin/python3 convert_openai_clip.py CHECKPOINT --out DIR [--f32]

DIR gets clip.safetensors with OpenAI's state-dict names unchanged (fp16 stays fp16 unless
--f32; Tessera loads fp16 as f32) and manifest.json with the config read off the shapes, as
OpenAI's build_model does (heads = width / 64). The tokenizer is OpenAI's (@tessera/bpe's
ClipTokenizer). Needs only PyTorch.

`--self-test DIR` builds a small random CLIP (tessera_torch.clip), saves it both ways
(a traced TorchScript archive in fp16, as OpenAI ships, and an open_clip-style checkpoint),
converts the TorchScript one into DIR, checks the other converts to the same tensors, and
writes DIR/reference.safetensors (inputs and PyTorch's features of the fp16-rounded weights).
"""
import argparse
import json
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.clip import build, config_from_state_dict  # noqa: E402
from tessera_torch.safetensors import write_safetensors  # noqa: E402

# Scalars OpenAI's TorchScript archives keep beside the weights.
NOT_WEIGHTS = {'input_resolution', 'context_length', 'vocab_size'}


def load_state_dict(path):
    """The weights of an OpenAI TorchScript archive or of a pickled (open_clip) checkpoint."""
    try:
        sd = torch.jit.load(path, map_location='cpu').state_dict()
    except RuntimeError:
        sd = torch.load(path, map_location='cpu')
        if isinstance(sd, dict) and 'state_dict' in sd:
            sd = sd['state_dict']
        if not isinstance(sd, dict):
            sd = sd.state_dict()
    out = {}
    for name, t in sd.items():
        if name.startswith('module.'):
            name = name[len('module.'):]
        if name in NOT_WEIGHTS:
            continue
        out[name] = t.detach().cpu().contiguous()
    return out


def convert(path, out, f32=False):
    sd = load_state_dict(path)
    config = config_from_state_dict(sd)
    tensors = {}
    for name, t in sd.items():
        if t.dtype == torch.bfloat16 or t.dtype == torch.float64 or (f32 and t.dtype == torch.float16):
            t = t.float()
        tensors[name] = t
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'clip.safetensors'), tensors)
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump({'format': 'tessera-clip', 'version': 1, 'config': config, 'tokenizer': 'clip',
                   'source': f'convert_openai_clip.py {os.path.basename(path)}'}, f, indent=2)
        f.write('\n')
    return sd, config


def self_test(out):
    torch.manual_seed(0)
    # visionWidth and transformerWidth 64: build_model's heads = width / 64 must give the model's own.
    config = {'embedDim': 32, 'imageResolution': 32, 'visionLayers': 2, 'visionWidth': 64, 'visionPatchSize': 8,
              'contextLength': 12, 'vocabSize': 100, 'transformerWidth': 64, 'transformerHeads': 1, 'transformerLayers': 2}
    model = build(config).eval()
    images = torch.randn(2, 3, 32, 32)
    tokens = torch.zeros(2, 12, dtype=torch.long)
    tokens[0, :4] = torch.tensor([98, 5, 6, 99])
    tokens[1, :6] = torch.tensor([98, 7, 8, 9, 10, 99])
    with tempfile.TemporaryDirectory() as tmp:
        # OpenAI's archives: traced, fp16 weights, plus the three scalar buffers.
        half = build(config).eval()
        half.load_state_dict(model.state_dict())
        half = half.half().float()  # the fp16-rounded values, as f32 for tracing on the CPU
        for name in NOT_WEIGHTS:
            half.register_buffer(name, torch.tensor(config['imageResolution'] if name == 'input_resolution' else config['contextLength'] if name == 'context_length' else config['vocabSize']))
        traced = torch.jit.trace(half, (images, tokens))
        traced = traced.half()
        jit_path = os.path.join(tmp, 'ViT-tiny.pt')
        traced.save(jit_path)
        sd, found = convert(jit_path, out)
        open_clip_path = os.path.join(tmp, 'open_clip.pt')
        torch.save({'epoch': 1, 'state_dict': {f'module.{k}': v for k, v in half.state_dict().items() if k not in NOT_WEIGHTS}}, open_clip_path)
        other = load_state_dict(open_clip_path)
    assert set(other) == set(sd), 'open_clip checkpoint names differ'
    for name, t in sd.items():
        assert t.dtype == torch.float16, f'{name} is {t.dtype}, expected the archive fp16'
        assert torch.equal(t.float(), other[name].float()), f'{name} differs between the two checkpoint kinds'
    expected = dict(config, visionHeads=1)
    assert found == expected, f'config read off the shapes {found} != {expected}'
    # The reference: PyTorch's features of the fp16 weights (as f32, what Tessera loads).
    ref = build(config).eval()
    ref.load_state_dict({k: v.float() for k, v in sd.items()})
    with torch.no_grad():
        write_safetensors(os.path.join(out, 'reference.safetensors'), {
            'images': images, 'tokens': tokens.int(),
            'image_features': ref.encode_image(images), 'text_features': ref.encode_text(tokens),
        })
    print(f'self-test: converted a traced fp16 archive and an open_clip checkpoint to {out}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoint', nargs='?')
    p.add_argument('--out')
    p.add_argument('--f32', action='store_true', help='store fp16 weights as f32 (twice the size; Tessera converts on load anyway)')
    p.add_argument('--self-test', metavar='DIR')
    a = p.parse_args()
    if a.self_test:
        self_test(a.self_test)
    elif a.checkpoint and a.out:
        _, config = convert(a.checkpoint, a.out, a.f32)
        print(f'wrote {a.out}: {json.dumps(config)}')
    else:
        p.error('give CHECKPOINT --out DIR, or --self-test DIR')


if __name__ == '__main__':
    main()
