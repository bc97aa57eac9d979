#!/usr/bin/python3
"""Builds the PyTorch parity fixtures for @tessera/prior (run with /usr/bin/python3, torch 1.13):

    /usr/bin/python3 packages/prior/scripts/make_fixtures.py

Writes packages/prior/fixtures/:
  masks.json                       allowed matrices (T 3, grid [4, 5]) and 'dalle' schedules
  prior-tiny.{safetensors,json}    4 layers [row, column, conv 3, causal]: weights, inputs, logits,
                                   loss terms, every gradient, every parameter after one AdamW step,
                                   greedy generations
  prior-full.{safetensors,json}    1 layer, mask 'full': weights, inputs, logits, loss terms
  prior-masks-each.{safetensors,json}  one set of 1-layer weights run under each mask alone
Deterministic (fixed seeds, float32, one thread); the self-checks below run every time.
"""
import json
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures')
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.prior import Prior, build_mask, dalle_schedule, default_config, mask_strings  # noqa: E402
from tessera_torch.safetensors import read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

T, GRID = 3, [4, 5]
TINY = default_config(textVocabSize=50, imageVocabSize=64, textLength=T, gridSize=GRID, width=32, heads=2, layers=4,
                      masks=['row', 'column', {'name': 'conv', 'kernelSize': 3}, 'causal'])
FULL = dict(TINY, layers=1, masks=['full'])
EACH = {'row': 'row', 'column': 'column', 'conv3': {'name': 'conv', 'kernelSize': 3},
        'conv5': {'name': 'conv', 'kernelSize': 5}, 'causal': 'causal', 'full': 'full'}
ADAMW = {'lr': 1e-2, 'betas': [0.9, 0.999], 'eps': 1e-8, 'weightDecay': 0.01}
INIT = ('Linear and Embedding weights N(0, 0.2), all biases (Linear and LayerNorm) N(0, 0.1), '
        'LayerNorm weights 1 + N(0, 0.1), drawn in state-dict order from torch.Generator().manual_seed(seed)')
# Inputs: a pad (id 0) in the second row's last text position; image ids drawn from a seeded generator.
TEXT = [[7, 23, 41], [12, 5, 0]]


def fixture_init(model, seed):
    """Weights large enough that attention softmaxes and logits are O(1), not near-uniform."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('bias'):
                p.normal_(0.0, 0.1, generator=gen)
            elif '.ln_' in name or name.startswith('ln_f'):
                p.normal_(0.0, 0.1, generator=gen).add_(1.0)
            else:
                p.normal_(0.0, 0.2, generator=gen)


def inputs(config, seed):
    gen = torch.Generator().manual_seed(seed)
    H, W = config['gridSize']
    text = torch.tensor(TEXT, dtype=torch.int32)
    image = torch.randint(0, config['imageVocabSize'], (len(TEXT), H * W), generator=gen, dtype=torch.int64).to(torch.int32)
    return text, image


def scalar(x):
    return x.detach().reshape(1).clone()


# ---------------------------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------------------------

def check_mask(entry, allowed, T, grid):
    L = len(allowed)
    for q in range(L):
        assert allowed[q][q] == 1, f'{entry}: query {q} cannot see itself'
        for k in range(L):
            if entry == 'full':
                assert allowed[q][k] == 1
                continue
            if k > q:
                assert allowed[q][k] == 0, f'{entry}: query {q} sees later key {k}'
            if q < T:
                assert allowed[q][k] == (1 if k <= q else 0), f'{entry}: text query {q} is not causal'
            elif k < T:
                assert allowed[q][k] == 1, f'{entry}: image query {q} misses text key {k}'


def check_loss(model, text, image, text_logits, image_logits, loss, text_ce, image_ce):
    """The loss terms recomputed by hand (log-softmax + gather), and loss = (1*text + 7*image)/8."""
    c = model.config
    Vt = c['textVocabSize']
    tgt = torch.where(text.long() == c['padId'], torch.full_like(text.long(), Vt), text.long())
    lt = -torch.log_softmax(text_logits.double(), -1).gather(-1, tgt.unsqueeze(-1)).mean()
    li = -torch.log_softmax(image_logits.double(), -1).gather(-1, image.long().unsqueeze(-1)).mean()
    assert abs(lt.item() - text_ce.item()) < 1e-5 and abs(li.item() - image_ce.item()) < 1e-5
    expect = (1 * text_ce.item() + 7 * image_ce.item()) / 8
    assert abs(loss.item() - expect) < 1e-6, (loss.item(), expect)
    assert c['textLossWeight'] == 1 and c['imageLossWeight'] == 7


def check_attention_against_torch(model, text, image):
    """Each block's attention against nn.MultiheadAttention with the same weights (its in_proj is
    q|k|v along the output dim with contiguous heads, as the spec's qkv) and attn_mask = not allowed."""
    D, h = model.config['width'], model.config['heads']
    with torch.no_grad():
        x = model.embed(text, image)
        for block, allowed in zip(model.blocks, model.allowed):
            mha = nn.MultiheadAttention(D, h, batch_first=True)
            mha.in_proj_weight.copy_(block.attn.qkv.weight)
            mha.in_proj_bias.copy_(block.attn.qkv.bias)
            mha.out_proj.weight.copy_(block.attn.proj.weight)
            mha.out_proj.bias.copy_(block.attn.proj.bias)
            a = block.ln_1(x)
            ref, _ = mha(a, a, a, attn_mask=~allowed, need_weights=False)
            ours = block.attn(a, allowed)
            err = (ref - ours).abs().max().item()
            assert err < 1e-5, f'attention differs from nn.MultiheadAttention by {err}'
            x = block(x, allowed)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

def write_json(name, obj):
    """Indented JSON with every innermost list of numbers on one line (readable diffs)."""
    text = json.dumps(obj, indent=2)
    text = re.sub(r'\[\s*(-?[0-9.e+-]+(?:,\s*-?[0-9.e+-]+)*)\s*\]',
                  lambda m: '[' + ', '.join(v.strip() for v in m.group(1).split(',')) + ']', text)
    assert json.loads(text) == obj
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(text + '\n')


def make_masks():
    out = {'textLength': T, 'gridSize': GRID, 'format': 'allowed[q] is a string of L = T + H*W characters, '
           "character k = '1' if query position q may attend to key position k",
           'masks': {}, 'dalle': {}}
    for key, entry in EACH.items():
        allowed = build_mask(entry, T, GRID)
        check_mask(entry, allowed, T, GRID)
        out['masks'][key] = {'entry': entry, 'allowed': mask_strings(allowed)}
    for n in (1, 2, 5, 6):
        out['dalle'][str(n)] = dalle_schedule(n)
    out['dalle_note'] = ("'dalle' for n layers: ['row', 'column', 'row', 'row'][l % 4] for l < n-1, 'conv' last; "
                         "that conv takes the default kernelSize (11) unless configured otherwise")
    write_json('masks.json', out)


def param_names(model):
    return [n for n, _ in model.named_parameters()]


def make_tiny():
    torch.manual_seed(0)
    model = Prior(TINY)
    fixture_init(model, seed=1)
    text, image = inputs(TINY, seed=2)
    check_attention_against_torch(model, text, image)
    names = param_names(model)
    tensors = {n: p.detach().clone() for n, p in model.named_parameters()}
    tensors['input.text'], tensors['input.image'] = text, image

    text_logits, image_logits = model(text, image)
    loss, text_ce, image_ce = model.loss(text, image)
    check_loss(model, text, image, text_logits, image_logits, loss, text_ce, image_ce)
    loss.backward()
    tensors.update({'text_logits': text_logits.detach(), 'image_logits': image_logits.detach(),
                    'loss': scalar(loss), 'text_ce': scalar(text_ce), 'image_ce': scalar(image_ce)})
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    assert all(g is not None for g in grads.values())
    for n, g in grads.items():
        tensors[f'grad.{n}'] = g
    opt = torch.optim.AdamW(model.parameters(), lr=ADAMW['lr'], betas=tuple(ADAMW['betas']), eps=ADAMW['eps'],
                            weight_decay=ADAMW['weightDecay'])
    opt.step()
    for n, p in model.named_parameters():
        tensors[f'step1.{n}'] = p.detach().clone()
    with torch.no_grad():
        loss1 = model.loss(text, image)[0]
    tensors['step1_loss'] = scalar(loss1)

    # Greedy generations with the ORIGINAL weights (a cache-free second opinion for the KV cache).
    model.load_state_dict({n: tensors[n] for n in names})
    gen_full, margins_full = model.generate(text)
    prefix = image[:, :7]
    gen_prefix, margins_prefix = model.generate(text, prefix=prefix)
    assert torch.equal(gen_prefix[:, :7], prefix)
    tensors['generate.greedy'] = gen_full
    tensors['generate.greedy_prefix7'] = gen_prefix
    min_margin = min(margins_full.nan_to_num(1e9).min().item(), margins_prefix.nan_to_num(1e9).min().item())

    # The key bias cannot change any softmax (it shifts every score of a query by the same q.b_k):
    # its gradient is 0 in exact arithmetic, so the fixture holds rounding noise there.
    D = TINY['width']
    for l in range(TINY['layers']):
        noise = grads[f'blocks.{l}.attn.qkv.bias'][D:2 * D].abs().max().item()
        assert noise < 1e-7, f'key-bias gradient of block {l} is {noise}, not ~0'
    # Near-zero gradients: where Adam's first step (~lr * sign(g)) is sensitive to rounding.
    tiny_grads = {n: int(((g.abs() > 0) & (g.abs() < 1e-6)).sum()) for n, g in grads.items()}
    tiny_grads = {n: c for n, c in tiny_grads.items() if c}

    write_safetensors(os.path.join(OUT, 'prior-tiny.safetensors'), tensors, {'torch': torch.__version__})
    write_json('prior-tiny.json', {
        'format': 'tessera-prior-fixture', 'version': 1, 'generator': 'packages/prior/scripts/make_fixtures.py',
        'torch': torch.__version__, 'dtype': 'f32 (ids i32)', 'config': TINY, 'init': INIT + ' (seed 1)',
        'inputs': {'text': text.tolist(), 'image': image.tolist(),
                   'note': 'also in the safetensors as input.text [2, 3] and input.image [2, 20] (i32); text id 0 is the pad'},
        'tensors': {
            'parameters': names,
            'parameters_note': 'the initial weights, stored under their bare state-dict names',
            'input.text': 'i32 [N, T]', 'input.image': 'i32 [N, H*W]',
            'text_logits': 'f32 [N, T, Vt + 1] (output positions 0..T-1; class Vt = pad)',
            'image_logits': 'f32 [N, H*W, Vi] (output positions T..L-1)',
            'loss': 'f32 [1] = (1*text_ce + 7*image_ce)/8', 'text_ce': 'f32 [1]', 'image_ce': 'f32 [1]',
            'grad.<param>': 'd loss / d param, same shape as the parameter, for every parameter',
            'step1.<param>': 'every parameter after one torch.optim.AdamW step on that gradient',
            'step1_loss': 'f32 [1], loss of the step1 weights on the same inputs',
            'generate.greedy': 'i32 [N, H*W], greedy (argmax) image tokens for input.text, initial weights',
            'generate.greedy_prefix7': 'i32 [N, H*W], greedy with the first 7 tokens of input.image given',
        },
        'adamw': dict(ADAMW, note='torch.optim.AdamW defaults otherwise (amsgrad off); weight decay applies to every '
                      'parameter (biases, LayerNorm and embeddings included), decoupled: p *= 1 - lr*wd, then the '
                      'Adam step (bias-corrected; step 1 moves each entry by lr*g/(|g|+eps))'),
        'values': {'loss': loss.item(), 'text_ce': text_ce.item(), 'image_ce': image_ce.item(),
                   'step1_loss': loss1.item()},
        'greedy_min_margin': min_margin,
        'greedy_note': 'smallest gap between the best and second-best image logit over all greedy steps',
        'near_zero_grads': {'count_of_entries_with_0<|g|<1e-6': tiny_grads,
                            'note': "Adam's first step moves an entry by lr*g/(|g|+eps) ~ lr*sign(g), so where |g| is "
                                    'near rounding level (< 1e-6) step1 depends on the rounding of g: there, only check '
                                    '|step1 - p*(1 - lr*wd)| <= lr. Compare step1 tightly where |grad| >= 1e-6.'},
        'key_bias_note': 'blocks.N.attn.qkv.bias[D:2D] (the key bias) has gradient 0 in exact arithmetic (softmax is '
                         'shift-invariant per query); the fixture holds rounding noise there (|g| < 1e-8), so its '
                         'grad. entries are ~0 and its step1. entries are noise-determined (see near_zero_grads).',
    })
    print(f'prior-tiny: loss {loss.item():.6f} text_ce {text_ce.item():.6f} image_ce {image_ce.item():.6f} '
          f'step1_loss {loss1.item():.6f} logit std {image_logits.std().item():.3f} greedy min margin {min_margin:.4f}')
    return model, text, image


def make_full():
    torch.manual_seed(0)
    model = Prior(FULL)
    fixture_init(model, seed=3)
    text, image = inputs(FULL, seed=2)
    check_attention_against_torch(model, text, image)
    tensors = {n: p.detach().clone() for n, p in model.named_parameters()}
    tensors['input.text'], tensors['input.image'] = text, image
    with torch.no_grad():
        text_logits, image_logits = model(text, image)
        loss, text_ce, image_ce = model.loss(text, image)
    check_loss(model, text, image, text_logits, image_logits, loss, text_ce, image_ce)
    tensors.update({'text_logits': text_logits, 'image_logits': image_logits,
                    'loss': scalar(loss), 'text_ce': scalar(text_ce), 'image_ce': scalar(image_ce)})
    write_safetensors(os.path.join(OUT, 'prior-full.safetensors'), tensors, {'torch': torch.__version__})
    write_json('prior-full.json', {
        'format': 'tessera-prior-fixture', 'version': 1, 'generator': 'packages/prior/scripts/make_fixtures.py',
        'torch': torch.__version__, 'dtype': 'f32 (ids i32)', 'config': FULL, 'init': INIT + ' (seed 3)',
        'inputs': {'text': text.tolist(), 'image': image.tolist(), 'note': 'also input.text / input.image (i32)'},
        'tensors': {'parameters': param_names(model), 'input.text': 'i32 [N, T]', 'input.image': 'i32 [N, H*W]',
                    'text_logits': 'f32 [N, T, Vt + 1]', 'image_logits': 'f32 [N, H*W, Vi]',
                    'loss': 'f32 [1]', 'text_ce': 'f32 [1]', 'image_ce': 'f32 [1]'},
        'mask_note': "'full' allows every (query, key) pair, text queries included: no causality anywhere",
        'values': {'loss': loss.item(), 'text_ce': text_ce.item(), 'image_ce': image_ce.item()},
    })
    print(f'prior-full: loss {loss.item():.6f}')
    return model, text, image


def make_each():
    torch.manual_seed(0)
    base = Prior(dict(TINY, layers=1, masks=['row']))
    fixture_init(base, seed=4)
    text, image = inputs(TINY, seed=2)
    state = {n: p.detach().clone() for n, p in base.named_parameters()}
    tensors = dict(state)
    tensors['input.text'], tensors['input.image'] = text, image
    values, models = {}, {}
    for key, entry in EACH.items():
        model = Prior(dict(TINY, layers=1, masks=[entry]))
        model.load_state_dict(state)
        with torch.no_grad():
            text_logits, image_logits = model(text, image)
            loss, text_ce, image_ce = model.loss(text, image)
        check_loss(model, text, image, text_logits, image_logits, loss, text_ce, image_ce)
        tensors[f'{key}.text_logits'], tensors[f'{key}.image_logits'], tensors[f'{key}.loss'] = text_logits, image_logits, scalar(loss)
        values[key] = {'mask': entry, 'loss': loss.item()}
        models[key] = model
    write_safetensors(os.path.join(OUT, 'prior-masks-each.safetensors'), tensors, {'torch': torch.__version__})
    write_json('prior-masks-each.json', {
        'format': 'tessera-prior-fixture', 'version': 1, 'generator': 'packages/prior/scripts/make_fixtures.py',
        'torch': torch.__version__, 'dtype': 'f32 (ids i32)',
        'config': dict(TINY, layers=1, masks=None),
        'config_note': 'one set of 1-layer weights (bare state-dict names), run once per mask: config.masks = [masks[key].mask]',
        'init': INIT + ' (seed 4)',
        'inputs': {'text': text.tolist(), 'image': image.tolist(), 'note': 'also input.text / input.image (i32)'},
        'tensors': {'parameters': param_names(base), 'input.text': 'i32 [N, T]', 'input.image': 'i32 [N, H*W]',
                    '<key>.text_logits': 'f32 [N, T, Vt + 1]', '<key>.image_logits': 'f32 [N, H*W, Vi]',
                    '<key>.loss': 'f32 [1]'},
        'masks': values,
    })
    print('prior-masks-each: ' + ', '.join(f'{k} {v["loss"]:.4f}' for k, v in values.items()))
    return models, text, image


def check_roundtrip(name):
    """The written file reads back bit-exactly and its weights load into a Prior by name."""
    data = read_safetensors(os.path.join(OUT, name))
    assert all(v.dtype.kind in 'fi' for v in data.values())
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    make_masks()
    tiny, text, image = make_tiny()
    full, _, _ = make_full()
    each, _, _ = make_each()
    for name in ('prior-tiny.safetensors', 'prior-full.safetensors', 'prior-masks-each.safetensors'):
        check_roundtrip(name)
    # Loading the tiny fixture's weights back reproduces its logits bit-exactly.
    data = read_safetensors(os.path.join(OUT, 'prior-tiny.safetensors'))
    again = Prior(TINY)
    again.load_state_dict({n: torch.from_numpy(data[n].copy()) for n in param_names(again)})
    with torch.no_grad():
        assert torch.equal(again(torch.from_numpy(data['input.text'].copy()), torch.from_numpy(data['input.image'].copy()))[1],
                           torch.from_numpy(data['image_logits'].copy()))
    print('self-checks: masks causal (text) and never-later (image), loss = (text + 7 image)/8, attention = '
          'nn.MultiheadAttention, fixture round-trip: ok')


if __name__ == '__main__':
    main()
