"""Trains Tessera's CLIP in PyTorch, one process or many under torchrun, as @tessera/clip-rerank's
ClipTrainer trains it: symmetric InfoNCE over the global batch, global-norm clipping, AdamW
(betas 0.9/0.98, eps 1e-6) decaying only open_clip's decayed tensors (rank >= 2, not gains, biases
or logit_scale), warmup + cosine, logit_scale clamped to [0, ln 100] after each step, the shift
augmentation drawn from mulberry32((dataSeed·0x9e3779b1 + step·0x85ebca6b + 1) >>> 0), and the
data order of its EpochSampler(dataSeed). Under N processes each rank encodes 1/N of the global
batch and the features are all-gathered (gradients flowing back to their rank), so every rank's
loss is the whole batch's InfoNCE, as one process computes it. The contrastive loss couples the
whole batch, so there is no gradient accumulation here (--accum 1).

    torchrun --standalone --nproc_per_node 8 python/train.py clip --init models/clip-emoji \\
        --data /tmp/emoji-32 --steps 4000 --batch 1024 --shift 2 --out runs/clip

--data holds emoji-train.{u8,json} (and emoji-heldout) as pack-emoji.mjs writes them, packed at the
CLIP's imageResolution, and tokenizer.json when --init has none.
"""
import json
import math
import os

import numpy as np
import torch

from . import distributed as D
from . import train_loop as loop
from .bpe import BpeTokenizer, ClipTextTokenizer
from .bundle import locate, write_trained
from .clip import build, contrastive_loss
from .data import PackedImages
from .rng import Mulberry32, RandomStream, js_seed_mix
from .train_common import base_parser, checkpoint_dir, recipe_value, warmup_cosine

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
MAX_LOGIT_SCALE = math.log(100)


def normalize_images(pixels):
    """normalizeImages: (clamp(p, 0, 1) − mean_c) / std_c in f64, rounded to f32 once."""
    mean = np.array(CLIP_MEAN).reshape(1, 3, 1, 1)
    std = np.array(CLIP_STD).reshape(1, 3, 1, 1)
    return ((np.clip(pixels.astype(np.float64), 0, 1) - mean) / std).astype(np.float32)


def shifted(images, dx, dy):
    """shiftInto: one normalised image [3, r, r] moved by (dx, dy), uncovered pixels white."""
    r = images.shape[-1]
    out = np.empty_like(images)
    for c in range(3):
        out[c] = np.float32((1 - CLIP_MEAN[c]) / CLIP_STD[c])
    ys, xs = slice(max(0, dy), min(r, r + dy)), slice(max(0, dx), min(r, r + dx))
    out[:, ys, xs] = images[:, max(0, -dy):min(r, r - dy), max(0, -dx):min(r, r - dx)]
    return out


def excluded_from_decay(name, p):
    import re
    return p.dim() < 2 or re.search(r'(^|\.)(ln|bn)_|bias|logit_scale', name) is not None


def evaluate(env, model, images, tokens, count=None, batch=128):
    """Held-out retrieval over the first `count` pairs: how often an image's own caption scores highest
    among all of them (and the reverse)."""
    count = min(count or len(images), len(images))
    module = D.unwrapped(model)
    was = module.training
    module.eval()
    feats = []
    with torch.no_grad():
        for s in range(0, count, batch):
            e = min(count, s + batch)
            feats.append(model(torch.from_numpy(images[s:e]).to(env.device), torch.from_numpy(tokens[s:e]).to(env.device), features=True))
    module.train(was)
    img = torch.cat([f[0] for f in feats])
    txt = torch.cat([f[1] for f in feats])
    sim = img @ txt.t()
    target = torch.arange(count, device=sim.device)
    return {'imageToTextTop1': (sim.argmax(1) == target).double().mean().item(), 'textToImageTop1': (sim.argmax(0) == target).double().mean().item(), 'pairs': count}


def main(argv=None):
    p = base_parser(__doc__, 'clip')
    p.add_argument('--train', default='emoji-train')
    p.add_argument('--heldout', default='emoji-heldout')
    p.add_argument('--beta1', type=float)
    p.add_argument('--beta2', type=float)
    p.add_argument('--eps', type=float)
    p.add_argument('--shift', type=int)
    args = p.parse_args(argv)
    if args.accum != 1:
        raise SystemExit('CLIP\'s contrastive loss couples the whole batch: no gradient accumulation (give --accum 1 and more processes)')
    env, log, stop = loop.start(args)

    located = locate(args.init, 'clip') if args.init else None
    if located:
        config = dict(located.config)
    elif args.config:
        config = json.loads(args.config)
    else:
        raise SystemExit('give --init (a bundle with a clip component or a clip directory) or --config (a ClipConfig as JSON)')
    tokenizer_file = os.path.join(located.root, located.tokenizer) if located and located.tokenizer else os.path.join(args.data, 'tokenizer.json')
    tokenizer = ClipTextTokenizer(BpeTokenizer.from_file(tokenizer_file))
    if tokenizer.bpe.vocab_size != config['vocabSize']:
        raise SystemExit(f"the tokenizer has {tokenizer.bpe.vocab_size} ids, the CLIP's vocabulary {config['vocabSize']}")
    r, L = config['imageResolution'], config['contextLength']

    def load(base):
        data = PackedImages(os.path.join(args.data, base))
        if data.image_size != r:
            raise SystemExit(f'{base} is packed at {data.image_size} px; this CLIP takes {r} px: pack it at that size (pack-emoji.mjs --size {r})')
        images = normalize_images(data.images(range(len(data))))
        tokens = np.array([tokenizer.tokenize(c, L, truncate=True) for c in data.captions], dtype=np.int64)
        return images, tokens
    train_images, train_tokens = load(args.train)
    held = load(args.heldout) if os.path.exists(os.path.join(args.data, args.heldout + '.json')) else None

    o = {'lr': recipe_value(args.lr, 5e-4), 'warmupSteps': recipe_value(args.warmup, min(500, args.steps // 10)),
         'minLrFactor': recipe_value(args.min_lr_factor, 0.1), 'weightDecay': recipe_value(args.weight_decay, 0.2),
         'beta1': recipe_value(args.beta1, 0.9), 'beta2': recipe_value(args.beta2, 0.98), 'eps': recipe_value(args.eps, 1e-6),
         'gradClip': recipe_value(args.grad_clip, 1), 'dataSeed': args.data_seed, 'shift': recipe_value(args.shift, 0),
         'steps': args.steps, 'batchSize': args.batch}

    torch.manual_seed(args.seed)
    clip = build(config)
    if located:
        clip.load_state_dict(located.weights('weights'))
    ckpt_dir = checkpoint_dir(args, 'clip')
    sampler = D.TesseraBatchSampler(len(train_images), args.batch, o['dataSeed'], env.rank, env.world, 1)
    random = RandomStream(args.seed)
    step, moments, _ = loop.resume(env, log, ckpt_dir, clip, sampler, random, o)

    def make_optimizer(trained):
        named = list(trained.named_parameters())
        groups = [{'params': [q for n, q in named if not excluded_from_decay(n, q)], 'weight_decay': o['weightDecay']},
                  {'params': [q for n, q in named if excluded_from_decay(n, q)], 'weight_decay': 0.0}]
        return torch.optim.AdamW(groups, lr=o['lr'], betas=(o['beta1'], o['beta2']), eps=o['eps'], weight_decay=o['weightDecay'])
    model, optimizer, trained = loop.wrap(env, args, clip, make_optimizer, moments, step)
    logit_scales = [q for n, q in trained.named_parameters() if n.endswith('logit_scale')]
    gather = D.all_gather_with_grad(env)
    schedule = warmup_cosine(o['steps'], o['warmupSteps'], o['minLrFactor'])
    loop.log_start(log, env, clip, f'{len(train_images)} train pairs', f'{args.batch} = {env.world} x {sampler.micro}', config)

    def train_step(step, lr):
        indices = sampler.next_global()
        start, (rows,) = sampler.shard(indices)
        images = train_images[np.asarray(indices)]
        if o['shift'] > 0:  # drawn for the whole global batch, in order, as ClipTrainingTask does
            rng = Mulberry32(js_seed_mix(o['dataSeed'], step, 1))
            span = 2 * o['shift'] + 1
            images = np.stack([shifted(img, rng.int(span) - o['shift'], rng.int(span) - o['shift']) for img in images])
        x = torch.from_numpy(images[start:start + len(rows)]).to(env.device)
        t = torch.from_numpy(train_tokens[np.asarray(rows)]).to(env.device)
        logits_per_image, logits_per_text = model(x, t, gather=gather)
        loss = contrastive_loss(logits_per_image, logits_per_text)
        loss.backward()
        if o['gradClip'] > 0:
            D.clip_grad_norm(model, o['gradClip'])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            for q in logit_scales:
                q.clamp_(0, MAX_LOGIT_SCALE)
                scale = q.detach()
        logit_scale = math.exp(D.all_reduce_sum(env, [scale.sum().item()])[0] / (1 if args.fsdp else env.world))
        accuracy = (logits_per_image.detach().argmax(1) == torch.arange(len(indices), device=logits_per_image.device)).double().mean().item()
        # loss.item(): the same on every rank, the whole batch's InfoNCE
        return {'loss': loss.item(), 'lr': lr, 'logitScale': logit_scale, 'batchAccuracy': accuracy}

    def write_out(weights, last_eval, record):
        write_trained(args.out, 'clip', {'weights': weights}, record({'heldOut': last_eval}), located, config, None if located and located.tokenizer else tokenizer_file)

    loop.run(env, args, log, stop, model=model, optimizer=optimizer, sampler=sampler, random=random, recipe=o, step=step, checkpoints=ckpt_dir,
             lr_at=lambda step: o['lr'] * schedule(step), train_step=train_step,
             line=lambda m: f"loss {m['loss']:.4f} batch accuracy {m['batchAccuracy']:.3f} logit scale {m['logitScale']:.2f} lr {m['lr']:.2e}",
             evaluate=None if held is None else lambda count: evaluate(env, model, *held, count),
             eval_line=lambda e: f"held-out top-1 image→text {e['imageToTextTop1']:.3f}, text→image {e['textToImageTop1']:.3f}",
             nonfinite_advice='lower the learning rate', write_out=write_out)


if __name__ == '__main__':
    main()
