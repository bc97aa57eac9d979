"""The emoji dVAE recipe of scripts/train-emoji.mjs, in PyTorch, on the packed emoji files.

A reference, not a second trainer: it shows what the recipe reaches per step count and model
size at PyTorch CPU speed (~20-40x Tessera's CPU and lavapipe backends on 2 cores), so
Tessera's learning curves can be checked against it and recipes tried before a long Tessera
run. Same layout (tessera_torch.dvae), same schedules (linear warmup then cosine LR to 0.1x,
exponential tau anneal over tau-frac of the steps, KL to uniform per sub-pixel), same
MSE-on-sigmoid(mu) loss, AdamW(wd 1e-4), grad clip 1. Data order differs (sampled with
replacement), so curves agree statistically, not bit for bit. `--init DIR --codes
straight-through` mirrors train-emoji.mjs's fine-tuning of a saved model on hard codes.

    node ../datasets/scripts/pack-emoji.mjs --size 32 --out /tmp/emoji-32
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/train_torch_reference.py --data /tmp/emoji-32 --steps 4000 --lr 4e-3
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/train_torch_reference.py --data /tmp/emoji-32 --init ../../models/dvae-emoji-32 \
        --codes straight-through --tau-start 0.0625 --kl-weight 0 --steps 2000 --lr 1e-3
    # continue a saved model and write the result as a Tessera model directory (how
    # ../../models/dvae-emoji-32-large was finished; its manifest.json has the exact command):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/train_torch_reference.py --data /tmp/emoji-32 --init MODEL_DIR \
        --tau-start 0.25 --tau-end 0.25 --kl-weight 0.03 --batch 16 --lr 1e-3 --steps 12000 --save OUT_DIR
    # evaluate a saved model only, with searched tokens (as eval-heldout.mjs --search):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/train_torch_reference.py --data /tmp/emoji-32 --init ../../models/dvae-emoji-32 --steps 0 --search
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'python'))  # tessera_torch
from tessera_torch.dvae import build, images_of, search_tokens  # noqa: E402
from tessera_torch.safetensors import read_safetensors, write_safetensors  # noqa: E402

EPS = 0.1  # map_pixels / unmap_pixels, as OpenAI's dall_e
# src/config.ts's emoji-32 preset (imageSize comes from the data).
EMOJI_32 = {'groupCount': 3, 'nHid': 16, 'nBlkPerGroup': 1, 'channels': 3, 'vocabSize': 512, 'nInit': 32}


def load(base):
    header = json.load(open(base + '.json'))
    size = header['imageSize']
    pixels = np.fromfile(base + '.u8', dtype=np.uint8).astype(np.float32) / 255
    return torch.from_numpy(pixels.reshape(header['length'], 3, size, size)), size


def recipe_loss(enc, dec, x, tau, kl_weight, generator=None, codes_kind='gumbel'):
    """DvaeTrainer's MSE objective on mapped images x: gumbel-softmax codes at temperature tau
    (or straight-through argmax codes with softmax(logits/tau) gradients), MSE of sigmoid(mu),
    plus kl_weight x KL(q || uniform) spread per sub-pixel. Returns (loss, recon, kl)."""
    logits = enc(x).permute(0, 2, 3, 1)
    if codes_kind == 'straight-through':
        soft = F.softmax(logits / tau, -1)
        codes = F.one_hot(logits.argmax(-1), logits.shape[-1]).float() + soft - soft.detach()
    else:
        gumbel = -torch.log(-torch.log(torch.rand(logits.shape, generator=generator, device=logits.device).clamp_min(1e-20)))
        codes = F.softmax((logits + gumbel) / tau, -1)
    recon = ((torch.sigmoid(dec(codes.permute(0, 3, 1, 2))[:, :x.shape[1]]) - x) ** 2).mean()
    log_q = F.log_softmax(logits, -1)
    kl = (log_q.exp() * log_q).sum(-1).mean() + math.log(logits.shape[-1])
    kl_scale = logits.shape[1] * logits.shape[2] / (x.shape[1] * x.shape[2] * x.shape[3])
    return recon + kl_weight * kl_scale * kl, recon, kl


def save_model(out, enc, dec, config, args, curve):
    """A Tessera model directory (what train-emoji.mjs --out writes), replaced atomically: the
    files go to a sibling directory that is renamed over `out`, so a run killed mid-write leaves
    the previous save whole."""
    staging = out.rstrip('/') + '.saving'
    os.makedirs(staging, exist_ok=True)
    for module, name in ((enc, 'encoder'), (dec, 'decoder')):
        write_safetensors(os.path.join(staging, name + '.safetensors'), module.state_dict())
    last = curve[-1] if curve else {}
    manifest = {
        'format': 'tessera-dvae', 'version': 1, 'config': config,
        'trainedBy': 'scripts/train_torch_reference.py (PyTorch ' + torch.__version__ + ')',
        'command': ' '.join(['OPENBLAS_NUM_THREADS=1', '/usr/bin/python3', 'scripts/train_torch_reference.py'] + sys.argv[1:]),
        'recipe': {k: v for k, v in vars(args).items() if k not in ('data', 'out', 'save', 'init', 'held_out_images')},
        **({'initialisedFrom': {'dir': args.init, **json.load(open(os.path.join(args.init, 'manifest.json')))}} if args.init else {}),
        'trainedSteps': last.get('step', 0),
        'metrics': {'heldOutPsnrDb': last.get('psnr'), 'heldOutPerplexity': last.get('perplexity'), 'vocabSize': config['vocabSize'], 'heldOutImages': args.held_out_images},
        'evalHistory': curve,
    }
    with open(os.path.join(staging, 'manifest.json'), 'w') as f:
        f.write(json.dumps(manifest, indent=2) + '\n')
    previous = out.rstrip('/') + '.previous'
    if os.path.exists(out):
        os.rename(out, previous)
    os.rename(staging, out)
    if os.path.exists(previous):
        for name in os.listdir(previous):
            os.remove(os.path.join(previous, name))
        os.rmdir(previous)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='directory with emoji-train.{u8,json} and emoji-heldout.{u8,json}')
    p.add_argument('--config', default='{}', help='DvaeConfig JSON over the emoji-32 preset, as train-emoji.mjs --config')
    p.add_argument('--steps', type=int, default=4000)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--kl-weight', type=float, default=0.1)
    p.add_argument('--init', help='start from a saved Tessera model directory (its manifest config and safetensors)')
    p.add_argument('--codes', choices=['gumbel', 'straight-through'], default='gumbel')
    p.add_argument('--tau-start', type=float, default=1.0)
    p.add_argument('--tau-end', type=float, default=1 / 16)
    p.add_argument('--tau-frac', type=float, default=0.7, help='tau reaches tau-end at this fraction of the steps')
    p.add_argument('--eval-every', type=int, default=1000)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu', help="torch device, e.g. cuda: the same recipe on a GPU, for long runs and sweeps")
    p.add_argument('--budget-s', type=float, help='size the run to this many seconds: --steps is then laid out from the speed of the first 100 steps (warmup, so no schedule jumps)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write the eval curve here as JSON')
    p.add_argument('--save', help='write the model here after every eval, as a Tessera model directory (encoder/decoder safetensors with OpenAI names, manifest.json): loadDvae and eval-heldout.mjs read it')
    p.add_argument('--search', action='store_true', help="evaluate with searched tokens (tessera_torch.dvae.search_tokens: Tessera's encode search)")
    p.add_argument('--candidates', type=int, default=8, help='with --search: codes tried per position (EncodeOptions.search.candidates)')
    p.add_argument('--passes', type=int, default=2, help='with --search: passes over the grid (EncodeOptions.search.passes)')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    train, size = load(os.path.join(a.data, 'emoji-train'))
    held_out, _ = load(os.path.join(a.data, 'emoji-heldout'))
    train, held_out = train.to(dev), held_out.to(dev)
    a.held_out_images = len(held_out)
    config = json.load(open(os.path.join(a.init, 'manifest.json')))['config'] if a.init else {**EMOJI_32, **json.loads(a.config), 'imageSize': size}
    vocab = config['vocabSize']
    enc, dec = build(config, torch.Generator().manual_seed(a.seed))
    if a.init:
        for module, name in ((enc, 'encoder'), (dec, 'decoder')):
            weights = read_safetensors(os.path.join(a.init, name + '.safetensors'))
            module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    enc, dec = enc.to(dev), dec.to(dev)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=1e-4)
    calibration = 100 if a.budget_s else 0
    if a.budget_s:
        a.steps = max(a.steps, 10 * calibration)  # provisional, for the warmup length
    warmup = min(100, a.steps // 10)

    def lr_factor(s):
        if s < warmup:
            return (s + 1) / warmup
        t = min(1, (s - warmup) / max(1, a.steps - warmup))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    mapped = lambda x: (1 - 2 * EPS) * x + EPS

    def evaluate():
        with torch.no_grad():
            if a.search:
                tokens = torch.cat([search_tokens(enc, dec, held_out[i:i + 64], vocab, a.candidates, a.passes) for i in range(0, len(held_out), 64)])
            else:
                tokens = enc(mapped(held_out)).argmax(1)
            recon = images_of(dec, tokens, vocab)
            psnr = 10 * math.log10(1 / ((recon - held_out) ** 2).mean().item())
            counts = torch.bincount(tokens.flatten(), minlength=vocab).float()
            probs = counts[counts > 0] / counts.sum()
            return psnr, math.exp(-(probs * probs.log()).sum().item())

    print(f'{sum(x.numel() for x in params)} parameters; {len(train)} train / {len(held_out)} held-out images; {json.dumps(config)}', flush=True)
    generator = torch.Generator(device=dev).manual_seed(a.seed + 1)
    curve, started = [], time.time()
    if a.init:
        psnr, perplexity = evaluate()
        print(f'{a.init}: held-out PSNR {psnr:.2f} dB  perplexity {perplexity:.1f}', flush=True)
    step = 0
    while step < a.steps:
        if step == calibration and a.budget_s:
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            per_step = (time.time() - started) / calibration
            a.steps = max(calibration + 1, int((a.budget_s - (time.time() - started)) / per_step * 0.9) + calibration)
            a.eval_every = max(100, a.steps // 12 // 100 * 100)
            print(f'{per_step * 1000:.1f} ms/step over the first {calibration} steps: {a.steps} steps in {a.budget_s:.0f} s, eval every {a.eval_every}', flush=True)
        tau = a.tau_start * (a.tau_end / a.tau_start) ** min(1, step / max(1, a.steps * a.tau_frac))
        x = mapped(train[torch.randint(0, len(train), (a.batch,), generator=generator, device=dev)])
        loss, recon, kl = recipe_loss(enc, dec, x, tau, a.kl_weight, generator, a.codes)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            psnr, perplexity = evaluate()
            curve.append({'step': step + 1, 'psnr': round(psnr, 2), 'perplexity': round(perplexity, 1)})
            ms = (time.time() - started) / (step + 1) * 1000
            print(f'step {step + 1}  recon {recon.item():.4f}  kl {kl.item():.3f}  tau {tau:.3f} | held-out PSNR {psnr:.2f} dB  perplexity {perplexity:.1f} ({perplexity / vocab:.0%})  {ms:.0f} ms/step', flush=True)
            if a.out:  # after every eval: a run stopped by a time limit keeps its curve
                json.dump({'config': config, 'args': vars(a), 'curve': curve}, open(a.out, 'w'), indent=1)
            if a.save:
                save_model(a.save, enc, dec, config, a, curve)
        step += 1


if __name__ == '__main__':
    main()
