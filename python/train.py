#!/usr/bin/env python3
"""Tessera's trainers in PyTorch, for one process or many under torchrun (see python/README.md):

    torchrun --standalone --nproc_per_node 8 python/train.py prior --init models/emoji --data DIR --steps N --batch B --out OUT
    torchrun ... python/train.py dvae  --init models/dvae-emoji-32 --data DIR --steps N --batch B --out OUT
    torchrun ... python/train.py clip  --init models/clip-emoji --data DIR --steps N --batch B --out OUT
    python3 python/train.py prior --help
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TRAINERS = {'prior': 'tessera_torch.train_prior', 'dvae': 'tessera_torch.train_dvae', 'clip': 'tessera_torch.train_clip'}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in TRAINERS:
        sys.exit(f'usage: python/train.py {{{"|".join(TRAINERS)}}} [options]   (--help after the model name lists them)\n' + __doc__)
    import importlib
    name = sys.argv.pop(1)
    sys.argv[0] = f'python/train.py {name}'
    importlib.import_module(TRAINERS[name]).main()
