"""Trains Tessera's prior in PyTorch, one process or many under torchrun, as @tessera/prior's
PriorTrainer trains it: the same loss ((1·text + 7·image)/8), AdamW with linear warmup and cosine
decay to lr·minLrFactor, global-norm clipping, BPE-dropout and null captions drawn per step from
mulberry32(fnv1a("dataSeed:step")), and the data order of its EpochSampler(dataSeed). A
single-process run sees exactly the batches PriorTrainer sees; N processes each take 1/N of every
global batch (tessera_torch.distributed.TesseraBatchSampler), so the loss curve is the same.

    torchrun --standalone --nproc_per_node 8 python/train.py prior --init models/emoji \\
        --data packages/prior/.runs/emoji-data --steps 6000 --batch 256 --out runs/emoji-big

--data holds train.tokens (and heldout.tokens) as packages/prior/scripts/prepare-emoji.mjs writes
them, and tokenizer.json when --init has no tokenizer. Checkpoints are Tessera's
(packages/tensor-core/src/train/checkpoint.ts): this trainer resumes train-prior.mjs's, and
train-prior.mjs --resume continues this trainer's.
"""
import json
import os

import numpy as np
import torch

from . import distributed as D
from . import train_loop as loop
from .bpe import BpeTokenizer
from .bundle import locate, write_trained
from .data import read_token_dataset
from .prior import Prior
from .rng import Mulberry32, RandomStream, fnv1a
from .train_common import base_parser, checkpoint_dir, make_adamw, recipe_value, warmup_cosine


def caption_ids(tokenizer, caption, T, pad_id, dropout=0, seed=None):
    """@tessera/prior's captionIds with truncate: exactly T ids, padded with pad_id."""
    ids = tokenizer.encode(caption, dropout=dropout, seed=seed) if dropout else tokenizer.encode(caption)
    ids = ids[:T]
    return ids + [pad_id] * (T - len(ids))


def encode_batch(tokenizer, captions, T, pad_id, draw=None, take=None):
    """PriorTrainer's encodeBatch: per caption, a null caption (all pads) with probability nullProb,
    else its ids under BPE-dropout seeded by the next draw; one mulberry32(draw['seed']) for the
    whole global batch, in order. `take` = (start, end): encode only those rows (a rank's shard),
    still drawing for every caption before them so the draws line up."""
    start, end = take if take is not None else (0, len(captions))
    rng = Mulberry32(draw['seed']) if draw else None
    rows = []
    for k, caption in enumerate(captions[:end]):
        if rng is not None and rng.next() < draw['nullProb']:
            row = [pad_id] * T if k >= start else None
        else:
            seed = int(rng.next() * 2 ** 32) if rng is not None else None
            row = caption_ids(tokenizer, caption, T, pad_id, draw['dropout'] if draw else 0, seed) if k >= start else None
        if k >= start:
            rows.append(row)
    return torch.tensor(rows, dtype=torch.int32).reshape(end - start, T)


def evaluate(env, model, dataset, tokenizer, T, pad_id, count=None, batch=64):
    """evaluatePrior: mean text / image cross-entropy over the first `count` pairs, real captions, no
    dropout; the pairs split over the ranks."""
    count = min(count or len(dataset), len(dataset))
    per = -(-count // env.world)
    lo, hi = min(count, env.rank * per), min(count, (env.rank + 1) * per)
    sums = [0.0, 0.0]
    prior = D.unwrapped(model)
    was = prior.training
    prior.eval()
    with torch.no_grad(), D.full_params(model):
        for s in range(lo, hi, batch):
            e = min(hi, s + batch)
            text = encode_batch(tokenizer, dataset.captions[s:e], T, pad_id).to(env.device)
            image = torch.from_numpy(dataset.image_tokens[s:e]).to(env.device)
            t, i = prior.per_sample_ce(text, image)
            sums[0] += t.double().sum().item()
            sums[1] += i.double().sum().item()
    prior.train(was)
    text_sum, image_sum = D.all_reduce_sum(env, sums)
    return {'textCe': text_sum / count, 'imageCe': image_sum / count, 'imagePerplexity': float(np.exp(image_sum / count)), 'pairs': count}


def main(argv=None):
    p = base_parser(__doc__, 'prior')
    p.add_argument('--bpe-dropout', type=float)
    p.add_argument('--null-caption', type=float)
    args = p.parse_args(argv)
    env, log, stop = loop.start(args)

    train = read_token_dataset(os.path.join(args.data, 'train.tokens'))
    held_path = os.path.join(args.data, 'heldout.tokens')
    held = read_token_dataset(held_path) if os.path.exists(held_path) else None
    located = locate(args.init, 'prior') if args.init else None
    tokenizer_file = os.path.join(located.root, located.tokenizer) if located and located.tokenizer else os.path.join(args.data, 'tokenizer.json')
    tokenizer = BpeTokenizer.from_file(tokenizer_file)
    pad_id = tokenizer.token_id('<|pad|>')
    if located:
        config = dict(located.config)
    elif args.config:
        config = json.loads(args.config)
        dvae_config = train.meta.get('dvaeConfig') or {}
        side = dvae_config['imageSize'] // 2 ** (dvae_config['groupCount'] - 1) if dvae_config else None
        config = {'textVocabSize': tokenizer.vocab_size, 'padId': pad_id, 'seed': args.seed,
                  **({'imageVocabSize': dvae_config['vocabSize'], 'gridSize': [side, side]} if dvae_config else {}), **config}
    else:
        raise SystemExit('give --init (a bundle or prior directory) or --config (a prior config as JSON, to start from scratch)')
    if config.get('dropout', 0):
        raise SystemExit("the prior's dropout draws from Tessera's device stream; this trainer runs dropout 0 only")
    if config.get('padId', 0) != pad_id:
        raise SystemExit(f"the tokenizer pads with id {pad_id}, the prior's config with {config.get('padId', 0)}")
    T = config['textLength']

    o = {'lr': recipe_value(args.lr, 1e-3), 'warmupSteps': recipe_value(args.warmup, min(200, args.steps // 10)),
         'minLrFactor': recipe_value(args.min_lr_factor, 0.1), 'weightDecay': recipe_value(args.weight_decay, 0.01),
         'gradClip': recipe_value(args.grad_clip, 1), 'bpeDropout': recipe_value(args.bpe_dropout, 0.1),
         'nullCaptionProb': recipe_value(args.null_caption, 0.1), 'dataSeed': args.data_seed, 'steps': args.steps, 'batchSize': args.batch}

    torch.manual_seed(args.seed)
    prior = Prior(config)
    if located:
        prior.load_state_dict(located.weights('weights'))
    ckpt_dir = checkpoint_dir(args, 'prior')
    sampler = D.TesseraBatchSampler(len(train), args.batch, o['dataSeed'], env.rank, env.world, args.accum)
    random = RandomStream(args.seed)
    step, moments, _ = loop.resume(env, log, ckpt_dir, prior, sampler, random, o)
    model, optimizer, _ = loop.wrap(env, args, prior, lambda trained: make_adamw(trained.parameters(), o['lr'], o['weightDecay']), moments, step)
    schedule = warmup_cosine(o['steps'], o['warmupSteps'], o['minLrFactor'])
    loop.log_start(log, env, prior, f'{len(train)} train pairs', f'{args.batch} = {env.world} x {args.accum} x {sampler.micro}', prior.config)

    def train_step(step, lr):
        indices = sampler.next_global()
        start, micro = sampler.shard(indices)
        draw = {'dropout': o['bpeDropout'], 'nullProb': o['nullCaptionProb'], 'seed': fnv1a(f"{o['dataSeed']}:{step}")}
        text = encode_batch(tokenizer, [train.captions[i] for i in indices], T, pad_id, draw, (start, start + sampler.local))
        image = torch.from_numpy(train.image_tokens[np.asarray(indices[start:start + sampler.local])])
        sums = [0.0, 0.0, 0.0]
        for a, rows in enumerate(micro):
            sl = slice(a * sampler.micro, (a + 1) * sampler.micro)
            with D.no_sync(model, a < len(micro) - 1):
                loss, text_ce, image_ce = model(text[sl].to(env.device), image[sl].to(env.device), loss=True)
                (loss / len(micro)).backward()
            sums = [sums[0] + loss.item(), sums[1] + text_ce.item(), sums[2] + image_ce.item()]
        D.clip_grad_norm(model, o['gradClip'])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss, text_ce, image_ce = (v / (env.world * len(micro)) for v in D.all_reduce_sum(env, sums))
        return {'loss': loss, 'textCe': text_ce, 'imageCe': image_ce, 'lr': lr}

    def write_out(weights, last_eval, record):
        write_trained(args.out, 'prior', {'weights': weights}, record({'heldOut': last_eval}), located, config, None if located and located.tokenizer else tokenizer_file)

    loop.run(env, args, log, stop, model=model, optimizer=optimizer, sampler=sampler, random=random, recipe=o, step=step, checkpoints=ckpt_dir,
             lr_at=lambda step: o['lr'] * schedule(step), train_step=train_step,
             line=lambda m: f"loss {m['loss']:.4f} text {m['textCe']:.3f} image {m['imageCe']:.3f} lr {m['lr']:.2e}",
             evaluate=None if held is None else lambda count: evaluate(env, model, held, tokenizer, T, pad_id, count),
             eval_line=lambda e: f"held-out text {e['textCe']:.3f} image {e['imageCe']:.3f} (perplexity {e['imagePerplexity']:.1f})",
             write_out=write_out)


if __name__ == '__main__':
    main()
