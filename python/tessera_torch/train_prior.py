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
import time

import numpy as np
import torch

from . import distributed as D
from .bpe import BpeTokenizer
from .bundle import locate, write_trained
from .data import read_token_dataset
from .prior import Prior
from .rng import Mulberry32, RandomStream, fnv1a
from .train_common import (Logger, base_parser, checkpoint_dir, make_adamw, recipe_changes, recipe_value, resume_state,
                           run_record, save_training_checkpoint, set_lr, warmup_cosine)


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
    env = D.setup(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    log = Logger(env, args.log, args.log_every)
    stop = D.StopRequest()

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
    resumed = resume_state(env, ckpt_dir)
    sampler = D.TesseraBatchSampler(len(train), args.batch, o['dataSeed'], env.rank, env.world, args.accum)
    random = RandomStream(args.seed)
    step = 0
    moments = {}
    if resumed:
        weights, moments, state, path = resumed
        prior.load_state_dict(weights)
        step = state['step']
        sampler.set_state(state['extra']['sampler'])
        random.set_state(state['random'])
        log.info(f'resumed from {path} at step {step}')
        changes = recipe_changes(state['extra'].get('recipe'), o)
        if changes:
            log.info('recipe changed since the checkpoint: ' + ', '.join(changes))
    prior.to(env.device)
    model = D.wrap(env, prior, args.fsdp)
    optimizer = make_adamw((model if args.fsdp else prior).parameters(), o['lr'], o['weightDecay'])
    if moments:
        D.load_moments(model, optimizer, moments, step)
    schedule = warmup_cosine(o['steps'], o['warmupSteps'], o['minLrFactor'])
    until = args.until or args.steps
    log.info(f"{env.world} process(es), {env.backend or 'single process'} on {env.device}; {sum(x.numel() for x in prior.parameters())} parameters; "
             f"{len(train)} train pairs; global batch {args.batch} = {env.world} x {args.accum} x {sampler.micro}; {json.dumps(prior.config)}")

    def checkpoint():
        save_training_checkpoint(env, ckpt_dir, model, optimizer, step, random.state(), {'sampler': sampler.state(), 'recipe': o})

    started, first_step, last_eval = time.time(), step, None
    while step < until:
        t0 = time.time()
        lr = o['lr'] * schedule(step)
        set_lr(optimizer, lr)
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
        if args.step_delay_ms:
            time.sleep(args.step_delay_ms / 1000)
        metrics = {'step': step, 'loss': loss, 'textCe': text_ce, 'imageCe': image_ce, 'lr': lr, 'ms': (time.time() - t0) * 1000}
        if not np.isfinite(loss):
            raise SystemExit(f'loss became {loss} at step {step}: lower the learning rate or clip gradients, then resume from the last checkpoint')
        step += 1
        log.step(metrics, f'step {step}: loss {loss:.4f} text {text_ce:.3f} image {image_ce:.3f} lr {lr:.2e} {metrics["ms"]:.0f} ms/step')
        if D.any_rank(env, stop.requested):
            checkpoint()
            log.info(f'stopped at step {step}: checkpoint in {ckpt_dir}; rerun the same command to continue')
            D.teardown(env)
            return
        if held is not None and args.eval_every and step % args.eval_every == 0 and step < until:
            last_eval = {'step': step, **evaluate(env, model, held, tokenizer, T, pad_id, args.eval_count)}
            log.record({'eval': last_eval})
            log.info(f"eval @{step}: held-out text {last_eval['textCe']:.3f} image {last_eval['imageCe']:.3f} (perplexity {last_eval['imagePerplexity']:.1f})")
        if args.checkpoint_every and step % args.checkpoint_every == 0 and step < until:
            checkpoint()
    if held is not None:
        last_eval = {'step': step, **evaluate(env, model, held, tokenizer, T, pad_id)}
        log.record({'eval': last_eval, 'final': True})
        log.info(f"eval @{step}: held-out text {last_eval['textCe']:.3f} image {last_eval['imageCe']:.3f} (perplexity {last_eval['imagePerplexity']:.1f})")
    checkpoint()
    if args.out:
        weights, _ = D.full_state(env, model, optimizer)
        if env.main:
            record = run_record(env, args, first_step, step, time.time() - started, o, {'heldOut': last_eval})
            write_trained(args.out, 'prior', {'weights': weights}, record, located, config, None if located and located.tokenizer else tokenizer_file)
            log.info(f'wrote {args.out} (step {step})')
        D.barrier(env)
    D.teardown(env)


if __name__ == '__main__':
    main()
