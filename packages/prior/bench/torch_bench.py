#!/usr/bin/python3
"""PyTorch CPU side of the prior benchmark, on tessera_torch.prior's Prior (python/tessera_torch/prior.py) (same layout and sizes):
training steps (loss, backward, clip, AdamW) or generation (the reference recomputes the whole prefix
for every token: it has no KV cache).

    /usr/bin/python3 torch_bench.py '{"config": {...}, "batch": 32, "iterations": 3, "mode": "train"}'

Prints one JSON line: {"tokensPerSecond": ..., "secondsPerIteration": [...], "threads": 2}.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.prior import Prior  # noqa: E402


def main():
    spec = json.loads(sys.argv[1])
    config, batch, iterations, mode = spec['config'], spec['batch'], spec['iterations'], spec['mode']
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = Prior(config)
    T = config['textLength']
    HW = config['gridSize'][0] * config['gridSize'][1]
    text = torch.randint(0, config['textVocabSize'], (batch, T))
    image = torch.randint(0, config['imageVocabSize'], (batch, HW))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def train_step():
        loss, _, _ = model.loss(text, image)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def generate():
        with torch.no_grad():
            model.generate(text, greedy=False)

    work = train_step if mode == 'train' else generate
    work()  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    tokens = batch * (T + HW) if mode == 'train' else batch * HW
    print(json.dumps({'tokensPerSecond': tokens / min(times), 'secondsPerIteration': times, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
