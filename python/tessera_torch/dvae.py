"""The dVAE layout of OpenAI's dall_e package, written for PyTorch from its published
structure (module and parameter names as in their encoder.pkl / decoder.pkl), at any size.
The one PyTorch definition of the dVAE: the parity fixtures, the converter, the benchmark,
scripts/train_torch_reference.py and python/train.py (training at scale) import it."""
import math
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


def images_of(dec, tokens, vocab_size, channels=3):
    """Tokens [N, h, w] → images in [0, 1]: unmap(sigmoid(μ)) of the one-hot codes, clamped."""
    codes = F.one_hot(tokens, vocab_size).permute(0, 3, 1, 2).float()
    return torch.clamp((torch.sigmoid(dec(codes)[:, :channels]) - 0.1) / 0.8, 0, 1)


SEARCH_STRIDE = 3
SEARCH_WINDOW_RADIUS = 1


@torch.no_grad()
def search_tokens(enc, dec, images, vocab_size, candidates=8, passes=2):
    """Reference of Tessera's searchTokens (src/token-search.ts): from the argmax, positions
    SEARCH_STRIDE apart at a time each take, of their current code and the encoder's
    `candidates` likeliest, the one whose decoded image has the least squared error over a
    window SEARCH_WINDOW_RADIUS tokens around the position; images that end worse than their
    argmax keep it."""
    logits = enc(0.8 * images + 0.1)
    argmax = logits.argmax(1)
    top = logits.topk(candidates, dim=1).indices
    n, gh, gw = argmax.shape
    f = images.shape[2] // gh
    side = (2 * SEARCH_WINDOW_RADIUS + 1) * f
    kernel = torch.ones(1, 1, side, side, device=images.device)
    tokens = argmax
    for _ in range(passes):
        for a in range(min(SEARCH_STRIDE, gh)):
            for b in range(min(SEARCH_STRIDE, gw)):
                mask = torch.zeros(gh, gw, dtype=torch.bool, device=images.device)
                mask[a::SEARCH_STRIDE, b::SEARCH_STRIDE] = True
                choices = torch.cat([tokens.unsqueeze(1), top], 1)
                k = choices.shape[1]
                trials = torch.where(mask, choices, tokens.unsqueeze(1))
                recon = images_of(dec, trials.reshape(n * k, gh, gw), vocab_size, images.shape[1]).reshape(n, k, *images.shape[1:])
                error = ((recon - images.unsqueeze(1)) ** 2).sum(2).reshape(n * k, 1, *images.shape[2:])
                window = F.conv2d(error, kernel, stride=f, padding=SEARCH_WINDOW_RADIUS * f).reshape(n, k, gh, gw)
                chosen = choices.gather(1, window.argmin(1, keepdim=True)).squeeze(1)
                tokens = torch.where(mask, chosen, tokens)

    def total(t):
        return ((images_of(dec, t, vocab_size, images.shape[1]) - images) ** 2).sum((1, 2, 3))
    keep = (total(tokens) <= total(argmax)).reshape(n, 1, 1)
    return torch.where(keep, tokens, argmax)



# --- training: @tessera/dvae's objective (src/train/objective.ts, loss.ts) ---------------------------

LOGIT_LAPLACE_EPS = 0.1


def map_pixels(x):
    """[0, 1] → [ε, 1−ε]: x·(1−2ε) + ε (mapPixels)."""
    return x * (1 - 2 * LOGIT_LAPLACE_EPS) + LOGIT_LAPLACE_EPS


def logit_laplace_nll(stats, target):
    """Mean logit-Laplace NLL per sub-pixel; stats [N, 2C, H, W] (μ, then log b), target mapped [N, C, H, W]."""
    c = target.shape[1]
    mu, log_b = stats[:, :c], stats[:, c:2 * c]
    log_x, log_1mx = torch.log(target), torch.log(1 - target)
    scaled_error = torch.abs((log_x - log_1mx) - mu) * torch.exp(-log_b)
    log_normaliser = (log_b + math.log(2)) + (log_x + log_1mx)
    return (log_normaliser + scaled_error).mean()


def sigmoid_mse(stats, target):
    return ((torch.sigmoid(stats[:, :target.shape[1]]) - target) ** 2).mean()


def kl_to_uniform(logits):
    """KL(softmax(logits) ‖ uniform), mean over positions, nats; logits channels-last [..., V]."""
    log_q = F.log_softmax(logits, -1)
    return (log_q.exp() * log_q).sum(-1).mean() + math.log(logits.shape[-1])


class DiscreteVAE(nn.Module):
    """Encoder + decoder under Tessera's DiscreteVAE names (encoder.blocks…, decoder.blocks…), whose
    forward is the training objective (so DDP / FSDP, which hook forward, wrap it)."""

    def __init__(self, config, generator=None):
        super().__init__()
        self.config = config
        self.encoder, self.decoder = build(config, generator)

    def forward(self, target, tau, kl_weight, codes='gumbel', loss='logit-laplace', gumbel_noise=None):
        """dvaeObjective on mapped images: (loss, recon, kl, logits [N, h, w, V])."""
        logits = self.encoder(target).permute(0, 2, 3, 1)
        if codes == 'straight-through':
            soft = F.softmax(logits * (1 / tau), -1)
            hard = F.one_hot(logits.argmax(-1), logits.shape[-1]).to(soft.dtype)
            relaxed = hard + (soft - soft.detach())  # exactly the one-hot forward, softmax's gradient backward
        else:
            relaxed = F.softmax((logits + gumbel_noise) * (1 / tau), -1)
        stats = self.decoder(relaxed.permute(0, 3, 1, 2))
        recon = sigmoid_mse(stats, target) if loss == 'mse' else logit_laplace_nll(stats, target)
        kl = kl_to_uniform(logits)
        kl_scale = logits.shape[1] * logits.shape[2] / (target.shape[1] * target.shape[2] * target.shape[3])
        return recon + kl * (kl_weight * kl_scale), recon, kl, logits
