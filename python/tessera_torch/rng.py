"""Tessera's random draws, bit for bit, so a PyTorch run sees the batches, null captions, BPE-dropout
seeds and Gumbel noise that Tessera's trainers draw:

- Mulberry32 and fnv1a: @tessera/datasets' random.ts (data order, per-step draws of PriorTrainer);
- EpochSampler: @tessera/datasets' sampler.ts (a seeded permutation per epoch, batches across
  epoch ends), with the same JSON state {seed, epoch, cursor} that Tessera's checkpoints hold;
- philox_gumbel: tensor-core's counter-based stream (kernels/random.ts, Philox4x32-10 keyed by
  (seed, 0), counter = offset + element index), whose {seed, offset} checkpoints also hold.

JavaScript's arithmetic is reproduced where it is double, not integer: `(seed * 0x9e3779b1 + epoch *
0x85ebca6b) >>> 0` is a sum of doubles, rounded as Python's floats round, then ToUint32.
"""
import math

import torch

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def to_uint32(x):
    """JavaScript's `x >>> 0` of a number (a double): truncate toward zero, then modulo 2^32."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return 0
        x = int(x)  # truncates, as ToUint32
    return x % (1 << 32)


def js_seed_mix(seed, step, add=0):
    """(seed * 0x9e3779b1 + step * 0x85ebca6b [+ add]) >>> 0 with JavaScript's double arithmetic."""
    x = float(seed) * float(0x9E3779B1) + float(step) * float(0x85EBCA6B)
    if add:
        x = x + float(add)
    return to_uint32(x)


class Mulberry32:
    """mulberry32 as @tessera/datasets (and @tessera/bpe's seededRandom): next() in [0, 1)."""

    def __init__(self, state):
        self.state = to_uint32(state)

    def next_u32(self):
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return (t ^ (t >> 14)) & M32

    def next(self):
        return self.next_u32() / 4294967296

    __call__ = next

    def int(self, n):
        return math.floor(self.next() * n)


def fnv1a(text):
    """32-bit FNV-1a over the string's UTF-16 code units (JavaScript's charCodeAt)."""
    h = 0x811C9DC5
    data = text.encode('utf-16-le')
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = _imul(h, 0x01000193)
    return h


class EpochSampler:
    """Batches of indices without replacement: each epoch a fresh permutation seeded by (seed, epoch);
    a batch that would cross the epoch's end takes the rest from the next one. State: {seed, epoch, cursor}."""

    def __init__(self, length, batch_size, seed=0):
        if not (isinstance(length, int) and length >= 1):
            raise ValueError(f'a sampler needs a non-empty dataset, got length {length}')
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f'batch size must be a positive integer, got {batch_size}')
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self.epoch, self.cursor = 0, 0
        self.order = self.permutation(0)

    def permutation(self, epoch):
        rng = Mulberry32(js_seed_mix(self.seed, epoch))
        order = list(range(self.length))
        for i in range(self.length - 1, 0, -1):
            j = rng.int(i + 1)
            order[i], order[j] = order[j], order[i]
        return order

    def next(self):
        out = []
        while len(out) < self.batch_size:
            if self.cursor == self.length:
                self.epoch += 1
                self.cursor = 0
                self.order = self.permutation(self.epoch)
            out.append(self.order[self.cursor])
            self.cursor += 1
        return out

    def state(self):
        return {'seed': self.seed, 'epoch': self.epoch, 'cursor': self.cursor}

    def set_state(self, state):
        if state['seed'] != self.seed:
            raise ValueError(f"sampler state was saved with seed {state['seed']}, this sampler uses {self.seed}")
        if not 0 <= state['cursor'] <= self.length:
            raise ValueError(f"sampler cursor {state['cursor']} is outside a dataset of {self.length}")
        self.epoch, self.cursor = state['epoch'], state['cursor']
        self.order = self.permutation(self.epoch)


# --- tensor-core's counter-based stream ------------------------------------------------------------

_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
_INV_2_24 = 2.0 ** -24


def _mulhi(a, b):
    """High 32 bits of a 32x32 product (int64 tensors or ints holding u32 values), from 16-bit halves."""
    al, ah = a & 0xFFFF, a >> 16
    bl, bh = b & 0xFFFF, b >> 16
    ll, lh, hl = al * bl, al * bh, ah * bl
    mid = (ll >> 16) + (lh & 0xFFFF) + (hl & 0xFFFF)
    return (ah * bh + (lh >> 16) + (hl >> 16) + (mid >> 16)) & M32


def philox_first_word(offset, count, seed, device=None):
    """Word 0 of Philox4x32-10 for counters offset … offset + count - 1 (key (seed, 0)): int64 [count]."""
    counter = torch.arange(count, dtype=torch.int64, device=device) + offset
    c0 = counter & M32
    c1 = (counter >> 32) & M32
    c2 = torch.zeros_like(c0)
    c3 = torch.zeros_like(c0)
    k0, k1 = seed & M32, 0
    for rnd in range(10):
        if rnd > 0:
            k0 = (k0 + _PHILOX_W0) & M32
            k1 = (k1 + _PHILOX_W1) & M32
        hi0 = _mulhi(c0, _PHILOX_M0)
        lo0 = (c0 * _PHILOX_M0) & M32  # the int64 product may wrap; its low 32 bits are exact
        hi1 = _mulhi(c2, _PHILOX_M1)
        lo1 = (c2 * _PHILOX_M1) & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0


def philox_gumbel(shape, seed, offset, device=None):
    """tensor-core's randomGumbel(shape) drawn at counter `offset` of stream `seed`: f32, computed in
    f64 and rounded once, as the CPU backend does (the WebGPU kernel computes in f32)."""
    count = 1
    for s in shape:
        count *= s
    u = (philox_first_word(offset, count, seed, device) >> 8).to(torch.float64) * _INV_2_24
    return (-torch.log(-torch.log(u + _INV_2_24 / 2))).to(torch.float32).reshape(shape)


class RandomStream:
    """A device's {seed, offset} stream (tensor-core's RandomGenerator): take(count) reserves counters."""

    def __init__(self, seed=0, offset=0):
        self.seed, self.offset = to_uint32(seed), offset

    def take(self, count):
        start = self.offset
        self.offset += count
        return start

    def state(self):
        return {'seed': self.seed, 'offset': self.offset}

    def set_state(self, state):
        self.seed, self.offset = to_uint32(state['seed']), state['offset']
