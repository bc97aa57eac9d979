"""The Tessera prior in PyTorch, written independently from /work/notes/prior-spec.md (the same
text as the TypeScript model): a decoder-only transformer over [BOS, text', image[:-1]] with one
learned pad token per text position, text position + image row/column slot embeddings, pre-LN
blocks with a per-layer attention mask, and the (1*text + 7*image)/8 loss.

State-dict names are the spec's (text_embedding, text_pos_embedding, image_embedding,
image_row_embedding, image_col_embedding, blocks.N.{ln_1,attn.qkv,attn.proj,ln_2,mlp.fc,mlp.proj},
ln_f, text_head, image_head). The masks are the rules of the spec evaluated for every (query, key)
pair at once (make_fixtures.py checks them against plain loops).
Generation recomputes the whole sequence per token or, like Tessera, keeps a KV cache
(KVCacheDecoder). The one PyTorch definition of the prior: packages/prior/scripts/make_fixtures.py,
packages/dalle/scripts/generate_torch.py and python/train.py (training at scale) import it; runs
with Debian's torch 1.13 (/usr/bin/python3).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_NAMES = ('row', 'column', 'conv', 'causal', 'full')
DEFAULT_CONV_KERNEL = 11


# ---------------------------------------------------------------------------------------------
# Masks: allowed[q][k] (1 = query position q may attend to key position k), L = T + H*W.
# ---------------------------------------------------------------------------------------------

def _mask_spec(entry):
    """A per-layer mask entry (a name, or {'name': ..., 'kernelSize': K}) → (name, options)."""
    if isinstance(entry, str):
        name, options = entry, {}
    elif isinstance(entry, dict):
        options = dict(entry)
        name = options.pop('name')
    else:
        raise TypeError(f'mask entry must be a name or {{name, ...options}}, got {entry!r}')
    if name not in MASK_NAMES:
        raise ValueError(f'unknown mask {name!r}; known: {", ".join(MASK_NAMES)}')
    return name, options


def build_mask(entry, text_length, grid_size):
    """The L×L allowed matrix of one mask as a list of lists of 0/1 ints."""
    return build_mask_tensor(entry, text_length, grid_size).to(torch.int64).tolist()


def build_mask_tensor(entry, text_length, grid_size):
    """The L×L allowed matrix of one mask (bool): the rules below, evaluated for every (query, key)
    pair at once (a big prior's L is over a thousand, too many pairs for a Python loop)."""
    name, options = _mask_spec(entry)
    T = text_length
    H, W = grid_size
    L = T + H * W
    K = options.get('kernelSize', DEFAULT_CONV_KERNEL)
    if name == 'conv' and (K < 1 or K % 2 == 0):
        raise ValueError(f'conv kernelSize must be odd and >= 1, got {K}')
    half = (K - 1) // 2
    if name == 'full':
        return torch.ones(L, L, dtype=torch.bool)  # every key, text queries included (no causality anywhere)
    q = torch.arange(L).reshape(L, 1)
    k = torch.arange(L).reshape(1, L)
    i, j = (q - T).clamp(min=0), (k - T).clamp(min=0)  # image query i, image key j (where q, k >= T)
    ri, ci, rj, cj = i // W, i % W, j // W, j % W
    if name == 'row':
        image = (i - W <= j) & (j <= i)
    elif name == 'column':
        image = cj == ci
    elif name == 'conv':
        image = ((rj - ri).abs() <= half) & ((cj - ci).abs() <= half)
    else:  # causal
        image = torch.ones(L, L, dtype=torch.bool)
    # Never a later position; text queries: causal; image queries: every text key, then the mask's image keys.
    return (k <= q) & ((q < T) | (k < T) | image)


def with_last_text_visible(allowed, text_length):
    """The prior's input at position T is the last text token (the input is shifted by BOS), but the
    mask contract counts position T as image position 0. Every image query may see it, as it sees
    all text: column T is opened for queries T … L-1."""
    allowed = allowed.clone()
    allowed[text_length:, text_length] = True
    return allowed


def dalle_schedule(layers):
    """Mask names of the 'dalle' schedule: row, column, row, row, ... and conv in the last layer."""
    cycle = ['row', 'column', 'row', 'row']
    return [cycle[l % 4] for l in range(layers - 1)] + ['conv']


def resolve_masks(masks, layers):
    """config masks (a list with one entry per layer, or the schedule name 'dalle') → list of entries."""
    if masks == 'dalle':
        return dalle_schedule(layers)
    if isinstance(masks, str) and masks in MASK_NAMES:
        return [masks] * layers  # one mask name for every layer, as Tessera's resolvePriorConfig
    if isinstance(masks, (str, dict)):
        raise ValueError(f"masks must be one entry per layer, the schedule 'dalle' or one mask name, got {masks!r}")
    masks = list(masks)
    if len(masks) != layers:
        raise ValueError(f'masks has {len(masks)} entries for {layers} layers')
    for m in masks:
        _mask_spec(m)
    return masks


def mask_strings(allowed):
    return [''.join(str(v) for v in row) for row in allowed]


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

def default_config(**overrides):
    config = {'textVocabSize': 50, 'imageVocabSize': 64, 'textLength': 3, 'gridSize': [4, 5], 'width': 32,
              'heads': 2, 'layers': 1, 'masks': ['row'], 'ffMult': 4, 'textLossWeight': 1, 'imageLossWeight': 7,
              'padId': 0, 'dropout': 0}
    config.update(overrides)
    return config


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        if width % heads:
            raise ValueError(f'width {width} is not a multiple of heads {heads}')
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x, allowed):
        return self.attend(x, allowed)[0]

    def attend(self, x, allowed, past=None):
        """x [n, Lq, D] at Lq new positions; `past` = (k, v) [n, h, P, d] of the P positions before
        them (None: no earlier positions); allowed [Lq, P + Lq]. Returns (output, (k, v) of all
        P + Lq positions): the cache the next position attends to."""
        n, L, D = x.shape
        h = self.heads
        d = D // h
        qkv = self.qkv(x)  # [n, L, 3D]: q | k | v along the output dim
        q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
        # Each of q, k, v: h heads of d contiguous features.
        q = q.reshape(n, L, h, d).transpose(1, 2)  # [n, h, L, d]
        k = k.reshape(n, L, h, d).transpose(1, 2)
        v = v.reshape(n, L, h, d).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d))  # [n, h, Lq, Lk]
        scores = scores.masked_fill(~allowed, float('-inf'))  # softmax over allowed keys only
        probs = torch.softmax(scores, dim=-1)
        out = (probs @ v).transpose(1, 2).reshape(n, L, D)
        return self.proj(out), (k, v)


class MLP(nn.Module):
    def __init__(self, width, ff_mult):
        super().__init__()
        self.fc = nn.Linear(width, ff_mult * width)
        self.proj = nn.Linear(ff_mult * width, width)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))  # exact (erf) GELU, torch's default


class Block(nn.Module):
    def __init__(self, width, heads, ff_mult):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = MLP(width, ff_mult)

    def forward(self, x, allowed):
        return self.run(x, allowed)[0]

    def run(self, x, allowed, past=None):
        """The block on new positions, attending to `past` too (see Attention.attend): (y, cache)."""
        a, cache = self.attn.attend(self.ln_1(x), allowed, past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, cache


class Prior(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = default_config()
        c.update(config)
        if c.get('dropout', 0):
            raise NotImplementedError('the reference has no dropout (the fixtures use dropout 0)')
        self.config = c
        Vt, Vi, T = c['textVocabSize'], c['imageVocabSize'], c['textLength']
        H, W = c['gridSize']
        D = c['width']
        self.T, self.H, self.W, self.L = T, H, W, T + H * W
        self.text_embedding = nn.Embedding(Vt + T + 1, D)  # vocab, pads by position, BOS
        self.text_pos_embedding = nn.Embedding(T, D)
        self.image_embedding = nn.Embedding(Vi, D)
        self.image_row_embedding = nn.Embedding(H, D)
        self.image_col_embedding = nn.Embedding(W, D)
        self.blocks = nn.ModuleList([Block(D, c['heads'], c['ffMult']) for _ in range(c['layers'])])
        self.ln_f = nn.LayerNorm(D, eps=1e-5)
        self.text_head = nn.Linear(D, Vt + 1)
        self.image_head = nn.Linear(D, Vi)
        self.mask_entries = resolve_masks(c['masks'], c['layers'])
        # Not parameters nor state: plain attributes, so the state dict holds the spec's names only
        # (allowed_on moves them to the activations' device). One tensor per distinct mask.
        made = {}
        for m in self.mask_entries:
            key = repr(m)
            if key not in made:
                made[key] = with_last_text_visible(build_mask_tensor(m, T, (H, W)), T)
        self.allowed = [made[repr(m)] for m in self.mask_entries]
        self._allowed_by_device = {}
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        """GPT-2 style: Linear and Embedding weights N(0, 0.02), biases 0, LayerNorm 1/0."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, 0.02, generator=generator)
                    if getattr(m, 'bias', None) is not None:
                        m.bias.zero_()
                elif isinstance(m, nn.LayerNorm):
                    m.weight.fill_(1.0)
                    m.bias.zero_()

    # -- inputs -----------------------------------------------------------------------------

    def text_tokens(self, text):
        """text' : a pad (padId) at position p becomes the id Vt + p."""
        c = self.config
        text = text.long()
        pos = torch.arange(self.T, device=text.device).expand_as(text)
        return torch.where(text == c['padId'], c['textVocabSize'] + pos, text)

    def text_inputs(self, text):
        """The inputs at positions 0 … T: BOS, then text' (pads as their position's pad token). [n, T + 1]."""
        n = text.shape[0]
        bos = torch.full((n, 1), self.config['textVocabSize'] + self.T, dtype=torch.long, device=text.device)
        return torch.cat([bos, self.text_tokens(text)], dim=1)

    def slot_embeddings(self, start, end):
        """Slot embeddings of positions [start, end): text position embeddings, then image row + column."""
        i = torch.arange(self.H * self.W, device=self.image_row_embedding.weight.device)
        slot = torch.cat([self.text_pos_embedding.weight,
                          self.image_row_embedding(i // self.W) + self.image_col_embedding(i % self.W)], dim=0)  # [L, D]
        return slot[start:end]

    def embed_positions(self, text_in, image, start, end):
        """Input embeddings of positions [start, end) [n, end - start, D]: text_in (text_inputs) fills
        positions 0 … T, image token i sits at position T + 1 + i (image holds at least the tokens
        the range needs; text_in may be None when start > T)."""
        T = self.T
        parts = []
        if start <= T:
            parts.append(self.text_embedding(text_in[:, start:min(end, T + 1)]))
        if end > T + 1:
            parts.append(self.image_embedding(image.long()[:, max(start, T + 1) - T - 1:end - T - 1]))
        return torch.cat(parts, dim=1) + self.slot_embeddings(start, end)

    def embed(self, text, image):
        n = text.shape[0]
        assert text.shape == (n, self.T), f'text must be [N, {self.T}], got {tuple(text.shape)}'
        assert image.shape == (n, self.H * self.W), f'image must be [N, {self.H * self.W}], got {tuple(image.shape)}'
        return self.embed_positions(self.text_inputs(text), image, 0, self.L)

    def run_positions(self, text_in, image, start, end, caches=None):
        """Positions [start, end) through every block and ln_f: (hidden [n, end - start, D], caches).
        With `caches` (one (k, v) per block holding positions [0, start)) attention sees those too;
        the returned caches hold [0, end)."""
        x = self.embed_positions(text_in, image, start, end)
        out = []
        for layer, (block, allowed) in enumerate(zip(self.blocks, self.allowed_on(x.device))):
            x, cache = block.run(x, allowed[start:end, :end], None if caches is None else caches[layer])
            out.append(cache)
        return self.ln_f(x), out

    def allowed_on(self, device):
        """The per-layer masks on `device` (made once per device)."""
        if device.type == 'cpu':
            return self.allowed
        key = str(device)
        if key not in self._allowed_by_device:
            self._allowed_by_device[key] = [a.to(device) for a in self.allowed]
        return self._allowed_by_device[key]

    # -- forward / loss ---------------------------------------------------------------------

    def forward(self, text, image, loss=False):
        """(text logits [N, T, Vt + 1], image logits [N, H·W, Vi]); with loss=True the loss terms
        instead (so DDP / FSDP, which hook forward, wrap the training computation)."""
        x = self.embed(text, image)
        for block, allowed in zip(self.blocks, self.allowed_on(x.device)):
            x = block(x, allowed)
        x = self.ln_f(x)
        text_logits, image_logits = self.text_head(x[:, :self.T]), self.image_head(x[:, self.T:])
        if loss:
            return self.loss_terms(text, image, text_logits, image_logits)
        return text_logits, image_logits

    def text_targets(self, text):
        c = self.config
        text = text.long()
        return torch.where(text == c['padId'], torch.full_like(text, c['textVocabSize']), text)

    def loss(self, text, image):
        """(loss, text_ce, image_ce): loss = (wt·text_ce + wi·image_ce) / (wt + wi), each a mean over its tokens."""
        return self(text, image, loss=True)

    def loss_terms(self, text, image, text_logits, image_logits):
        c = self.config
        text_ce = F.cross_entropy(text_logits.reshape(-1, text_logits.shape[-1]), self.text_targets(text).reshape(-1))
        image_ce = F.cross_entropy(image_logits.reshape(-1, image_logits.shape[-1]), image.long().reshape(-1))
        wt, wi = c['textLossWeight'], c['imageLossWeight']
        return (wt * text_ce + wi * image_ce) / (wt + wi), text_ce, image_ce

    def per_sample_ce(self, text, image):
        """Each pair's mean text and image cross-entropy ([N] each): what evaluations average."""
        text_logits, image_logits = self(text, image)
        text_ce = F.cross_entropy(text_logits.transpose(1, 2), self.text_targets(text), reduction='none').mean(1)
        image_ce = F.cross_entropy(image_logits.transpose(1, 2), image.long(), reduction='none').mean(1)
        return text_ce, image_ce

    # -- generation --------------------------------------------------------------------------

    @torch.no_grad()
    def generate(self, text, prefix=None, greedy=True, temperature=1.0, top_k=None, generator=None, kv_cache=False):
        """Image tokens [N, HW] for `text`, keeping a given prefix of image tokens [N, P]. Without
        kv_cache each step recomputes the whole sequence (the not-yet-sampled positions hold 0, which
        the masks, never a later key, keep from mattering): a second opinion for the cached sampler.
        With kv_cache the steps run through KVCacheDecoder. Returns (tokens, margins): margins[n, i] is
        the gap between the best and second-best logit at step i (how safe a greedy comparison is)."""
        n, HW = text.shape[0], self.H * self.W
        image = torch.zeros(n, HW, dtype=torch.long)
        start = 0
        if prefix is not None:
            start = prefix.shape[1]
            image[:, :start] = prefix.long()
        decoder = KVCacheDecoder(self, text) if kv_cache else None

        def logits_at(i):
            if decoder is None:
                return self(text, image)[1][:, i]
            while decoder.done < i:
                decoder.push(image[:, decoder.done])
            return decoder.logits

        margins = torch.full((n, HW), float('nan'))
        for i in range(start, HW):
            step = logits_at(i).float()
            top2 = step.topk(2, dim=-1).values
            margins[:, i] = top2[:, 0] - top2[:, 1]
            if greedy:
                image[:, i] = step.argmax(-1)
            else:
                step = step / temperature
                if top_k is not None:
                    kth = step.topk(top_k, dim=-1).values[:, -1:]
                    step = step.masked_fill(step < kth, float('-inf'))
                image[:, i] = torch.multinomial(torch.softmax(step, -1), 1, generator=generator).squeeze(1)
        return image.to(torch.int32), margins


class KVCacheDecoder:
    """Incremental decoding with each layer's keys and values kept (a KV cache), as Tessera's
    generate runs: the prefill runs BOS + caption (positions 0 … T), then each pushed image token
    runs only its own position. `logits` [n, Vi] is always the distribution of image token `done`."""

    @torch.no_grad()
    def __init__(self, prior, text):
        self.prior = prior
        hidden, self.caches = prior.run_positions(prior.text_inputs(text), None, 0, prior.T + 1)
        self.tokens = torch.zeros(text.shape[0], 0, dtype=torch.long)
        self.logits = prior.image_head(hidden[:, -1])

    @property
    def done(self):
        """Image tokens pushed so far."""
        return self.tokens.shape[1]

    @torch.no_grad()
    def push(self, token):
        """Appends image token `done` ([n]) and runs its position (T + 1 + done) against the cache."""
        if self.done >= self.prior.H * self.prior.W - 1:
            raise IndexError('every image token is already known: there is no next position to run')
        self.tokens = torch.cat([self.tokens, token.long().reshape(-1, 1)], dim=1)
        position = self.prior.T + self.done
        hidden, self.caches = self.prior.run_positions(None, self.tokens, position, position + 1, self.caches)
        self.logits = self.prior.image_head(hidden[:, -1])
        return self.logits
