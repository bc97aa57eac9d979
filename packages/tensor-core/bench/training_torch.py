"""PyTorch CPU peer of bench/training.mjs: the same two models, median ms per AdamW step."""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
D, HEADS, T, B = 128, 4, 64, 8
CB, SIZE, CH, CLASSES = 16, 32, (3, 32, 64), 10


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.reshape(b, t, HEADS, d // HEADS).transpose(1, 2) for z in self.qkv(self.ln1(x)).split(d, -1))
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(d // HEADS)).masked_fill(~self.mask, float("-inf")).softmax(-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(CH[0], CH[1], 3, padding=1)
        self.conv2 = nn.Conv2d(CH[1], CH[2], 3, padding=1)
        self.fc = nn.Linear(CH[2] * (SIZE // 4) ** 2, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def median_ms(model, x, y, loss_fn):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    for i in range(STEPS + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


out = [
    {"ms": median_ms(Block(), torch.randn(B, T, D), torch.randn(B, T, D), F.mse_loss)},
    {"ms": median_ms(ConvNet(), torch.randn(CB, CH[0], SIZE, SIZE), torch.arange(CB) % CLASSES, F.cross_entropy)},
]
print(json.dumps(out))
