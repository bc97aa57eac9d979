#!/usr/bin/python3
"""Checks of the PyTorch reference itself (no fixtures written):

    /usr/bin/python3 packages/prior/scripts/test_prior_torch.py

1. Masking is exact: changing image token j (the input at position T+j+1) or text token p (the
   input at position p+1) leaves bit-identical every output position that cannot reach that input
   through the layers' masks, and changes every one that can (random weights).
2. Cache-free generation: greedy keeps a given prefix, and sampling with top_k=1 equals greedy.
3. The KV cache (KVCacheDecoder): its logits at every step equal the full forward's on the same
   tokens (within 1e-5), and cached greedy generation (with and without a prefix) equals cache-free.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'python'))  # tessera_torch
from make_fixtures import EACH, TINY, fixture_init, inputs  # noqa: E402
from tessera_torch.prior import KVCacheDecoder, Prior  # noqa: E402

torch.set_num_threads(1)


def reach(model):
    """R[q][k]: the output at position q can depend on the input at position k (the layers' masks
    composed; the residual path is the diagonal, which every mask allows)."""
    r = torch.eye(model.L, dtype=torch.bool)
    for allowed in model.allowed:
        r = (allowed.double() @ r.double()) > 0
    return r


def outputs_at(text_logits, image_logits, T, q):
    return text_logits[:, q] if q < T else image_logits[:, q - T]


def perturbation_check(model, text, image, label):
    T, HW = model.T, model.H * model.W
    Vt, Vi = model.config['textVocabSize'], model.config['imageVocabSize']
    r = reach(model)
    kept = changed = 0
    with torch.no_grad():
        base = model(text, image)
        cases = []
        for j in range(HW):
            other = image.clone()
            other[:, j] = (other[:, j] + 1 + j) % Vi
            cases.append((f'image token {j}', T + j + 1, text, other))
        for p in range(T):
            other = text.clone()
            other[:, p] = 1 + (other[:, p] + 2 + p) % (Vt - 1)  # a different non-pad id (pads become words too)
            cases.append((f'text token {p}', p + 1, other, image))
        for what, pos, t2, i2 in cases:
            new = model(t2, i2)
            for q in range(model.L):
                a, b = outputs_at(*base, T, q), outputs_at(*new, T, q)
                if pos >= model.L or not r[q, pos]:
                    assert torch.equal(a, b), f'{label}: {what} changed output position {q}, which cannot see input {pos}'
                    kept += 1
                else:
                    assert not torch.equal(a, b), f'{label}: {what} did not change output position {q}'
                    changed += 1
    print(f'  {label:<24} {kept:4d} (input, output position) pairs bit-identical where unreachable, '
          f'{changed:4d} changed where reachable')


def kv_cache_check(model, text, image):
    """Step-by-step cached logits against one full forward on the same (teacher-forced) tokens."""
    HW = model.H * model.W
    with torch.no_grad():
        full = model(text, image)[1]
        decoder = KVCacheDecoder(model, text)
        worst = 0.0
        for i in range(HW):
            worst = max(worst, (decoder.logits - full[:, i]).abs().max().item())
            if i < HW - 1:
                decoder.push(image[:, i])
    assert worst < 1e-5, f'KV cache logits differ from the full forward by {worst}'
    for prefix in (None, image[:, :7]):
        cached, _ = model.generate(text, prefix=prefix, kv_cache=True)
        plain, _ = model.generate(text, prefix=prefix)
        assert torch.equal(cached, plain), 'cached greedy generation differs from cache-free'
    print(f'KV cache: logits at all {HW} steps within {worst:.1e} of the full forward; cached greedy == cache-free (with and without a prefix): ok')


def main():
    text, image = inputs(TINY, seed=2)
    print('masking is exact (changing one input token):')
    for key, entry in EACH.items():
        model = Prior(dict(TINY, layers=1, masks=[entry]))
        fixture_init(model, seed=4)
        perturbation_check(model, text, image, f'1 layer {key}')
    conv3 = {'name': 'conv', 'kernelSize': 3}
    # (row + column already reaches every earlier position on this 4x5 grid, as does anything ending in causal.)
    for masks in (['row', 'row'], [conv3, conv3], ['column', conv3], TINY['masks']):
        model = Prior(dict(TINY, layers=len(masks), masks=masks))
        fixture_init(model, seed=1)
        names = [m if isinstance(m, str) else f'conv{m["kernelSize"]}' for m in masks]
        perturbation_check(model, text, image, '+'.join(names))

    model = Prior(TINY)
    fixture_init(model, seed=1)
    greedy, _ = model.generate(text)
    prefixed, _ = model.generate(text, prefix=image[:, :7])
    assert torch.equal(prefixed[:, :7], image[:, :7])
    top1, _ = model.generate(text, greedy=False, top_k=1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(top1, greedy)
    sampled, _ = model.generate(text, greedy=False, temperature=1.0, generator=torch.Generator().manual_seed(0))
    # Teacher forcing: the greedy tokens are the argmax of the logits computed on them.
    with torch.no_grad():
        assert torch.equal(model(text, greedy)[1].argmax(-1).to(torch.int32), greedy)
    print('generate: prefix kept, top_k=1 sampling == greedy, greedy == argmax of logits on its own tokens: ok')
    kv_cache_check(model, text, image)
    print('  greedy ', greedy.tolist())
    print('  sampled', sampled.tolist())


if __name__ == '__main__':
    main()
