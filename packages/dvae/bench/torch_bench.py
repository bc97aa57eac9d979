#!/usr/bin/python3
"""PyTorch CPU side of the dVAE benchmark: the same layout (tessera_torch.dvae) and the same
work as Tessera's encode + decode (argmax tokens → one-hot → decoder → sigmoid/unmap), with
"mode": "search" the same with searched tokens (tessera_torch.dvae.search_tokens, 8 candidates, 2 passes),
or with "mode": "train" one training step of DvaeTrainer's MSE recipe.

    /usr/bin/python3 torch_bench.py '{"config": {...}, "batch": 16, "iterations": 3, "mode": "train"}'

Prints one JSON line: {"imagesPerSecond": ..., "secondsPerIteration": [...], "threads": 2}.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.dvae import build, images_of, search_tokens  # noqa: E402
from train_torch_reference import recipe_loss  # noqa: E402


def main():
    spec = json.loads(sys.argv[1])
    config, batch, iterations = spec['config'], spec['batch'], spec['iterations']
    torch.set_num_threads(2)
    enc, dec = build(config, torch.Generator().manual_seed(0))
    enc.eval()
    dec.eval()
    size = config['imageSize']
    images = torch.rand(batch, config['channels'], size, size, generator=torch.Generator().manual_seed(1))

    def encode_decode():
        with torch.no_grad():
            tokens = enc(0.8 * images + 0.1).argmax(1)
            return images_of(dec, tokens, config['vocabSize'], config['channels'])

    def search_decode():
        with torch.no_grad():
            tokens = search_tokens(enc, dec, images, config['vocabSize'])
            return images_of(dec, tokens, config['vocabSize'], config['channels'])

    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)

    def train_step():
        # One step of DvaeTrainer's MSE recipe (the reference script's objective), AdamW, clip.
        enc.train()
        dec.train()
        loss, _, _ = recipe_loss(enc, dec, 0.8 * images + 0.1, 0.5, 0.1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    work = {'train': train_step, 'search': search_decode}.get(spec.get('mode'), encode_decode)
    work()  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    best = min(times)
    print(json.dumps({'imagesPerSecond': batch / best, 'secondsPerIteration': times, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
