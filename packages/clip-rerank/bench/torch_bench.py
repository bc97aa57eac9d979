#!/usr/bin/python3
"""PyTorch CPU peer of bench/run.mjs: the same CLIP (tessera_torch.clip) and workloads.
Prints one JSON line: image-encoder images/s and training pairs/s."""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.clip import build, contrastive_loss  # noqa: E402

config = json.loads(sys.argv[1])
encode_batch, train_batch, iterations = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
torch.manual_seed(0)
model = build(config)
r, l = config['imageResolution'], config['contextLength']
images = torch.randn(encode_batch, 3, r, r)
tokens = torch.randint(1, config['vocabSize'] - 1, (train_batch, l))
tokens[:, -1] = config['vocabSize'] - 1
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)


def best(work):
    work()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def encode():
    with torch.no_grad():
        model.eval()
        model.encode_image(images)
        model.train()


train_images = torch.randn(train_batch, 3, r, r)


def step():
    loss = contrastive_loss(*model(train_images, tokens))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()
    with torch.no_grad():
        model.logit_scale.clamp_(0, math.log(100))


print(json.dumps({'encodeImagesPerSecond': encode_batch / best(encode), 'trainPairsPerSecond': train_batch / best(step),
                  'threads': torch.get_num_threads(), 'torch': torch.__version__}))
