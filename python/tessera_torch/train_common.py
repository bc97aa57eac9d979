"""What the three trainers share: tensor-core's schedules (optim/schedule.ts), AdamW set up and
stepped as Tessera's (lr = base · schedule(optimizer steps so far), decoupled weight decay),
checkpoints in Tessera's format with exact resume, rank-0 logging (console and a JSON-lines file),
and the command-line options every trainer takes. The loop itself is train_loop's."""
import argparse
import json
import math
import os
import platform
import sys
import time

import torch

from . import distributed as D
from .checkpoint import join_tensors, load_checkpoint, save_checkpoint, split_tensors


# --- schedules (tensor-core src/optim/schedule.ts) -----------------------------------------------

def linear_warmup(steps):
    return lambda step: 1.0 if steps <= 0 else min(1.0, (step + 1) / steps)


def cosine_decay(steps, min_factor=0.0):
    return lambda step: min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * min(step / max(steps, 1), 1)))


def warmup_then(warmup, after):
    return lambda step: linear_warmup(warmup)(step) if step < warmup else after(step - warmup)


def warmup_cosine(steps, warmup, min_factor=0.0):
    return warmup_then(warmup, cosine_decay(steps - warmup, min_factor))


def exponential_anneal(start, end, steps):
    return lambda step: start * (end / start) ** min(1, step / max(1, steps))


def cosine_anneal(start, end, steps):
    return lambda step: end + (start - end) * 0.5 * (1 + math.cos(math.pi * min(1, step / max(1, steps))))


def linear_ramp(maximum, steps):
    return lambda step: maximum if steps <= 0 else maximum * min(1, step / steps)


# --- options ---------------------------------------------------------------------------------------

def base_parser(description, model):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--init', help=f'start from this Tessera bundle or {model} directory (weights and config); with --out, the output is a copy of it with the trained weights')
    p.add_argument('--config', help=f'from scratch: the {model} config as JSON (Tessera camelCase), instead of --init')
    p.add_argument('--data', required=True, help='the training data directory (see python/README.md)')
    p.add_argument('--out', help='write the trained model here (a bundle if --init was one, else a model directory); Tessera loads it unchanged')
    p.add_argument('--checkpoints', help='checkpoint directory (Tessera format; default OUT/../NAME.checkpoints). A checkpoint there is resumed exactly, whether PyTorch or Tessera wrote it')
    p.add_argument('--steps', type=int, required=True, help='planned steps: the schedules are laid out over them')
    p.add_argument('--until', type=int, help='stop at this step (default: --steps), checkpointed')
    p.add_argument('--batch', type=int, required=True, help='the global batch (all processes and accumulation steps together), as Tessera\'s batchSize')
    p.add_argument('--accum', type=int, default=1, help='gradient accumulation steps per optimizer step (the global batch is split over processes x accum)')
    p.add_argument('--lr', type=float)
    p.add_argument('--warmup', type=int, help='warmup steps (default: as the Tessera trainer)')
    p.add_argument('--min-lr-factor', type=float)
    p.add_argument('--weight-decay', type=float)
    p.add_argument('--grad-clip', type=float)
    p.add_argument('--data-seed', type=int, default=0, help='seed of the data order and per-step draws (Tessera dataSeed)')
    p.add_argument('--seed', type=int, default=0, help="seed of the device random stream (Tessera's Device seed) and of a from-scratch init")
    p.add_argument('--device', default='auto', help='auto (cuda:LOCAL_RANK when there is a GPU, else cpu), cpu or cuda')
    p.add_argument('--fsdp', action='store_true', help='shard parameters, gradients and optimizer state (FSDP) instead of DDP: for models that do not fit one GPU (PyTorch >= 2.0)')
    p.add_argument('--threads', type=int, help='torch threads per process (default: torch\'s)')
    p.add_argument('--log', help='append one JSON line per step (and per evaluation) here (rank 0)')
    p.add_argument('--log-every', type=int, default=10, help='console line every N steps (rank 0)')
    p.add_argument('--checkpoint-every', type=int, default=0)
    p.add_argument('--eval-every', type=int, default=0)
    p.add_argument('--eval-count', type=int, help='held-out items in periodic evaluations (the final one uses all)')
    p.add_argument('--step-delay-ms', type=float, default=0, help=argparse.SUPPRESS)  # tests: slow steps, to interrupt a run
    return p


def recipe_value(given, default):
    return default if given is None else given


class Logger:
    def __init__(self, env, path, every):
        self.env, self.path, self.every = env, path, every
        if env.main and path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def record(self, entry):
        if not self.env.main:
            return
        if self.path:
            with open(self.path, 'a', encoding='utf-8') as f:
                f.write(json.dumps(entry) + '\n')

    def step(self, metrics, text):
        self.record(metrics)
        if self.env.main and self.every and (metrics['step'] + 1) % self.every == 0:
            print(text, flush=True)

    def info(self, text):
        if self.env.main:
            print(text, flush=True)


def make_adamw(params, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """torch.optim.AdamW as Tessera's (decoupled decay on every parameter given; the same moments)."""
    return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def set_lr(optimizer, lr):
    for g in optimizer.param_groups:
        g['lr'] = lr


def checkpoint_dir(args, name):
    if args.checkpoints:
        return args.checkpoints
    if args.out:
        return args.out.rstrip('/') + '.checkpoints'
    raise SystemExit('give --checkpoints DIR or --out DIR (checkpoints then go to OUT.checkpoints)')


def resume_state(env, directory):
    """(model weights, moments, state) of the checkpoint in `directory`, or None."""
    found = load_checkpoint(directory) if os.path.isdir(directory) else None
    if found is None:
        return None
    tensors, state, path = found
    model, moments = split_tensors(tensors)
    as_torch = lambda a: torch.from_numpy(a.copy())
    return ({k: as_torch(v) for k, v in model.items()}, {p: {k: as_torch(v) for k, v in s.items()} for p, s in moments.items()}, state, path)


def save_training_checkpoint(env, directory, model, optimizer, step, random_state, extra):
    """Every rank takes part (FSDP gathers); rank 0 writes; all wait for it."""
    weights, moments = D.full_state(env, model, optimizer)
    if env.main:
        state = {'step': step, 'random': random_state, 'optimizer': {'step': step, 'lr': optimizer.defaults['lr'], 'kind': 'adamw'}, 'extra': extra}
        save_checkpoint(directory, join_tensors(weights, moments), state)
    D.barrier(env)


def recipe_changes(saved, now):
    if not saved:
        return []
    return [f'{k} {json.dumps(saved.get(k))} -> {json.dumps(v)}' for k, v in now.items() if json.dumps(saved.get(k)) != json.dumps(v)]


def run_record(env, args, steps_from, steps_to, seconds, recipe, metrics):
    """What a model directory's manifest keeps of this run (its torchTraining list)."""
    return {
        'trainer': 'python/train.py (tessera_torch, PyTorch ' + torch.__version__ + ')',
        'command': ' '.join(sys.argv),  # train.py sets argv[0] to 'python/train.py MODEL'
        'processes': env.world,
        'backend': env.backend or 'single process',
        'device': str(env.device.type) + (f' ({torch.cuda.get_device_name(env.device)})' if env.device.type == 'cuda' else ''),
        'machine': platform.node(),
        'fromStep': steps_from,
        'toStep': steps_to,
        'wallSeconds': round(seconds),
        'recipe': recipe,
        'metrics': metrics,
        'finishedAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
