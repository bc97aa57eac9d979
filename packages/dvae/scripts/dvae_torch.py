"""The dVAE layout of OpenAI's dall_e package, written for PyTorch from its published
structure (module and parameter names as in their encoder.pkl / decoder.pkl), at any size.
Used by the parity fixtures and the PyTorch side of the benchmark."""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv2d(nn.Module):
    """Square kernel, 'same' padding, parameters `w` [out, in, k, k] and `b` [out]."""

    def __init__(self, n_in, n_out, kw, generator=None):
        super().__init__()
        w = torch.empty(n_out, n_in, kw, kw).normal_(std=1 / (n_in * kw * kw) ** 0.5, generator=generator)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.zeros(n_out))
        self.kw = kw

    def forward(self, x):
        return F.conv2d(x, self.w, self.b, padding=(self.kw - 1) // 2)


class Block(nn.Module):
    def __init__(self, n_in, n_out, n_layers, kernels, generator=None):
        super().__init__()
        n_hid = n_out // 4
        self.post_gain = 1 / n_layers ** 2
        self.id_path = Conv2d(n_in, n_out, 1, generator) if n_in != n_out else nn.Identity()
        widths = [n_in, n_hid, n_hid, n_hid, n_out]
        layers = []
        for i, k in enumerate(kernels):
            layers.append((f'relu_{i + 1}', nn.ReLU()))
            layers.append((f'conv_{i + 1}', Conv2d(widths[i], widths[i + 1], k, generator)))
        self.res_path = nn.Sequential(OrderedDict(layers))

    def forward(self, x):
        return self.id_path(x) + self.post_gain * self.res_path(x)


def _width(n_hid, g):
    return n_hid * 2 ** (g - 1)


class Encoder(nn.Module):
    def __init__(self, group_count=4, n_hid=256, n_blk_per_group=2, input_channels=3, vocab_size=8192, generator=None):
        super().__init__()
        n_layers = group_count * n_blk_per_group
        items = [('input', Conv2d(input_channels, n_hid, 7, generator))]
        for g in range(1, group_count + 1):
            n_in, n_out = _width(n_hid, max(1, g - 1)), _width(n_hid, g)
            group = [(f'block_{i + 1}', Block(n_in if i == 0 else n_out, n_out, n_layers, (3, 3, 3, 1), generator)) for i in range(n_blk_per_group)]
            if g < group_count:
                group.append(('pool', nn.MaxPool2d(kernel_size=2)))
            items.append((f'group_{g}', nn.Sequential(OrderedDict(group))))
        items.append(('output', nn.Sequential(OrderedDict([('relu', nn.ReLU()), ('conv', Conv2d(_width(n_hid, group_count), vocab_size, 1, generator))]))))
        self.blocks = nn.Sequential(OrderedDict(items))

    def forward(self, x):
        return self.blocks(x)


class Decoder(nn.Module):
    def __init__(self, group_count=4, n_init=128, n_hid=256, n_blk_per_group=2, output_channels=3, vocab_size=8192, generator=None):
        super().__init__()
        n_layers = group_count * n_blk_per_group
        items = [('input', Conv2d(vocab_size, n_init, 1, generator))]
        for g in range(1, group_count + 1):
            n_in = n_init if g == 1 else _width(n_hid, group_count - g + 2)
            n_out = _width(n_hid, group_count - g + 1)
            group = [(f'block_{i + 1}', Block(n_in if i == 0 else n_out, n_out, n_layers, (1, 3, 3, 3), generator)) for i in range(n_blk_per_group)]
            if g < group_count:
                group.append(('upsample', nn.Upsample(scale_factor=2, mode='nearest')))
            items.append((f'group_{g}', nn.Sequential(OrderedDict(group))))
        items.append(('output', nn.Sequential(OrderedDict([('relu', nn.ReLU()), ('conv', Conv2d(n_hid, 2 * output_channels, 1, generator))]))))
        self.blocks = nn.Sequential(OrderedDict(items))

    def forward(self, x):
        return self.blocks(x)


def build(config, generator=None):
    """(Encoder, Decoder) from a Tessera DvaeConfig dict (camelCase keys)."""
    enc = Encoder(config['groupCount'], config['nHid'], config['nBlkPerGroup'], config['channels'], config['vocabSize'], generator)
    dec = Decoder(config['groupCount'], config['nInit'], config['nHid'], config['nBlkPerGroup'], config['channels'], config['vocabSize'], generator)
    return enc, dec
