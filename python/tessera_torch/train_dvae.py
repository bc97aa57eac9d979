"""Trains Tessera's dVAE in PyTorch, one process or many under torchrun, as @tessera/dvae's
DvaeTrainer trains it: gumbel-softmax codes (or straight-through) at a temperature annealed
exponentially (or by cosine) from tauStart to tauEnd over tauSteps, KL to uniform with a weight
ramped over klWarmupSteps and spread per sub-pixel, logit-Laplace (or MSE) reconstruction, AdamW
with warmup + cosine decay, optional global-norm clipping; the data order of its
EpochSampler(dataSeed), and the Gumbel noise of tensor-core's counter-based stream (Philox at the
device stream's offset, which advances by N·h·w·V per step), so one process draws exactly Tessera's
batches and noise, and N processes each take 1/N of every global batch with its slice of that noise.

    torchrun --standalone --nproc_per_node 8 python/train.py dvae --init models/dvae-emoji-32 \\
        --data /tmp/emoji-32 --steps 20000 --batch 512 --loss mse --kl-weight 0.03 --out runs/dvae

--data holds emoji-train.{u8,json} (and emoji-heldout.{u8,json}) as packages/datasets/scripts/
pack-emoji.mjs writes them (--train NAME / --heldout NAME for other names). Checkpoints are
Tessera's: this trainer resumes train-emoji.mjs's, and train-emoji.mjs --resume continues this one's.
"""
import json
import math
import os

import torch

from . import distributed as D
from . import train_loop as loop
from .bundle import locate, write_trained
from .data import PackedImages
from .dvae import DiscreteVAE, images_of, map_pixels
from .rng import RandomStream, philox_gumbel
from .train_common import base_parser, checkpoint_dir, cosine_anneal, exponential_anneal, linear_ramp, make_adamw, recipe_value, warmup_cosine

# packages/dvae/src/config.ts presets (the ones a from-scratch --config may name).
PRESETS = {
    'tiny': {'groupCount': 4, 'nHid': 16, 'nBlkPerGroup': 1, 'channels': 3, 'vocabSize': 64, 'nInit': 16, 'imageSize': 32},
    'emoji-32': {'groupCount': 3, 'nHid': 16, 'nBlkPerGroup': 1, 'channels': 3, 'vocabSize': 512, 'nInit': 32, 'imageSize': 32},
    'emoji-32-large': {'groupCount': 3, 'nHid': 64, 'nBlkPerGroup': 2, 'channels': 3, 'vocabSize': 2048, 'nInit': 128, 'imageSize': 32},
    'mid': {'groupCount': 4, 'nHid': 32, 'nBlkPerGroup': 2, 'channels': 3, 'vocabSize': 1024, 'nInit': 64, 'imageSize': 64},
}


def evaluate(env, model, data, count=None, batch=64):
    """evaluateReconstruction with argmax tokens: PSNR of encode → decode over the first `count`
    images (f64 squared error), and the code perplexity; the images split over the ranks."""
    count = min(count or len(data), len(data))
    per = -(-count // env.world)
    lo, hi = min(count, env.rank * per), min(count, (env.rank + 1) * per)
    vae = D.unwrapped(model)
    vocab = vae.config['vocabSize']
    se, counts = 0.0, torch.zeros(vocab, dtype=torch.float64)
    with torch.no_grad(), D.full_params(model):
        for s in range(lo, hi, batch):
            x = torch.from_numpy(data.images(range(s, min(hi, s + batch)))).to(env.device)
            tokens = vae.encoder(map_pixels(x)).argmax(1)
            recon = images_of(vae.decoder, tokens, vocab, x.shape[1])
            se += ((recon.double() - x.double()) ** 2).sum().item()
            counts += torch.bincount(tokens.flatten().cpu(), minlength=vocab).double()
    se = D.all_reduce_sum(env, [se])[0]
    counts = D.all_reduce_tensor(env, counts)
    mse = se / (count * 3 * data.image_size ** 2)
    probs = counts[counts > 0] / counts.sum()
    return {'psnr': 10 * math.log10(1 / max(mse, 1e-12)), 'perplexity': math.exp(-(probs * probs.log()).sum().item()), 'images': count}


def main(argv=None):
    p = base_parser(__doc__, 'dvae')
    p.add_argument('--train', default='emoji-train', help='packed training set in --data (BASE.u8 + BASE.json)')
    p.add_argument('--heldout', default='emoji-heldout', help='packed held-out set in --data (optional)')
    p.add_argument('--tau-start', type=float)
    p.add_argument('--tau-end', type=float)
    p.add_argument('--tau-steps', type=int)
    p.add_argument('--tau-schedule', choices=['exponential', 'cosine'])
    p.add_argument('--kl-weight', type=float)
    p.add_argument('--kl-warmup', type=int)
    p.add_argument('--codes', choices=['gumbel', 'straight-through'])
    p.add_argument('--loss', choices=['logit-laplace', 'mse'])
    p.add_argument('--dead-code-window', type=int)
    args = p.parse_args(argv)
    env, log, stop = loop.start(args)

    train = PackedImages(os.path.join(args.data, args.train))
    held_base = os.path.join(args.data, args.heldout)
    held = PackedImages(held_base) if os.path.exists(held_base + '.json') else None
    located = locate(args.init, 'dvae') if args.init else None
    if located:
        config = dict(located.config)
    elif args.config:
        given = json.loads(args.config)
        config = {**PRESETS[given.pop('preset', 'emoji-32')], 'imageSize': train.image_size, **given}
    else:
        raise SystemExit('give --init (a bundle or dvae directory) or --config (a DvaeConfig as JSON, {"preset": NAME, ...}) to start from scratch')
    if train.image_size % 2 ** (config['groupCount'] - 1):
        raise SystemExit(f"dataset images are {train.image_size} px, not a multiple of the model's downsampling 2^(groupCount-1)")

    o = {'lr': recipe_value(args.lr, 1e-3), 'warmupSteps': recipe_value(args.warmup, min(100, args.steps // 10)),
         'minLrFactor': recipe_value(args.min_lr_factor, 0.1), 'weightDecay': recipe_value(args.weight_decay, 1e-4),
         'tauStart': recipe_value(args.tau_start, 1), 'tauEnd': recipe_value(args.tau_end, 1 / 16), 'tauSteps': recipe_value(args.tau_steps, args.steps),
         'tauSchedule': recipe_value(args.tau_schedule, 'exponential'), 'klWeight': recipe_value(args.kl_weight, 6.6),
         'klWarmupSteps': recipe_value(args.kl_warmup, args.steps // 4), 'codes': recipe_value(args.codes, 'gumbel'),
         'loss': recipe_value(args.loss, 'logit-laplace'), 'dataSeed': args.data_seed, 'deadCodeWindow': recipe_value(args.dead_code_window, 100),
         'steps': args.steps, 'batchSize': args.batch, 'gradClip': args.grad_clip}

    torch.manual_seed(args.seed)
    vae = DiscreteVAE(config, torch.Generator().manual_seed(args.seed))
    if located:
        vae.encoder.load_state_dict(located.weights('encoder'))
        vae.decoder.load_state_dict(located.weights('decoder'))
    ckpt_dir = checkpoint_dir(args, 'dvae')
    sampler = D.TesseraBatchSampler(len(train), args.batch, o['dataSeed'], env.rank, env.world, args.accum)
    random = RandomStream(args.seed)
    vocab = config['vocabSize']
    step, moments, extra = loop.resume(env, log, ckpt_dir, vae, sampler, random, o)
    last_seen = list(extra.get('codeUsage', [-1] * vocab))  # CodeUsage: the step each code was last the argmax
    model, optimizer, _ = loop.wrap(env, args, vae, lambda trained: make_adamw(trained.parameters(), o['lr'], o['weightDecay']), moments, step)
    schedule = warmup_cosine(o['steps'], o['warmupSteps'], o['minLrFactor'])
    tau_of = (cosine_anneal if o['tauSchedule'] == 'cosine' else exponential_anneal)(o['tauStart'], o['tauEnd'], o['tauSteps'])
    beta_of = linear_ramp(o['klWeight'], o['klWarmupSteps'])
    grid = config['imageSize'] // 2 ** (config['groupCount'] - 1)
    per_image = grid * grid * vocab
    loop.log_start(log, env, vae, f'{len(train)} train images', f'{args.batch} = {env.world} x {args.accum} x {sampler.micro}', config)

    def train_step(step, lr):
        tau, kl_weight = tau_of(step), beta_of(step)
        indices = sampler.next_global()
        start, micro = sampler.shard(indices)
        # The step's noise is drawn for the whole global batch (N·h·w·V counters); this rank's rows are its slice.
        offset = random.take(len(indices) * per_image) if o['codes'] == 'gumbel' else None
        sums, counts = [0.0, 0.0, 0.0], torch.zeros(vocab, dtype=torch.float64)
        for a, rows in enumerate(micro):
            x = map_pixels(torch.from_numpy(train.images(rows)).to(env.device))
            noise = None
            if offset is not None:
                first = start + a * sampler.micro
                noise = philox_gumbel([len(rows), grid, grid, vocab], random.seed, offset + first * per_image, env.device)
            with D.no_sync(model, a < len(micro) - 1):
                loss, recon, kl, logits = model(x, tau, kl_weight, o['codes'], o['loss'], noise)
                (loss / len(micro)).backward()
            sums = [sums[0] + loss.item(), sums[1] + recon.item(), sums[2] + kl.item()]
            counts += torch.bincount(logits.detach().argmax(-1).flatten().cpu(), minlength=vocab).double()
        if o['gradClip'] is not None:
            D.clip_grad_norm(model, o['gradClip'])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss, recon, kl = (v / (env.world * len(micro)) for v in D.all_reduce_sum(env, sums))
        counts = D.all_reduce_tensor(env, counts)
        for code in torch.nonzero(counts).flatten().tolist():
            last_seen[code] = step
        probs = counts[counts > 0] / counts.sum()
        return {'loss': loss, 'recon': recon, 'kl': kl, 'tau': tau, 'klWeight': kl_weight, 'lr': lr,
                'perplexity': math.exp(-(probs * probs.log()).sum().item()),
                'deadCodes': sum(1 for s in last_seen if s < 0 or step - s >= o['deadCodeWindow'])}

    def write_out(weights, last_eval, record):
        split = {half: {k[len(half) + 1:]: v for k, v in weights.items() if k.startswith(half + '.')} for half in ('encoder', 'decoder')}
        metrics = {'heldOutPsnrDb': last_eval and round(last_eval['psnr'], 2), 'heldOutPerplexity': last_eval and round(last_eval['perplexity'], 1), 'vocabSize': vocab}
        write_trained(args.out, 'dvae', split, record(metrics), located, config)

    loop.run(env, args, log, stop, model=model, optimizer=optimizer, sampler=sampler, random=random, recipe=o, step=step, checkpoints=ckpt_dir,
             lr_at=lambda step: o['lr'] * schedule(step), train_step=train_step,
             line=lambda m: f"loss {m['loss']:.4f} recon {m['recon']:.4f} kl {m['kl']:.3f} tau {m['tau']:.3f} lr {m['lr']:.2e} perplexity {m['perplexity']:.1f}",
             checkpoint_extra=lambda: {'codeUsage': last_seen, 'config': config},
             evaluate=None if held is None else lambda count: evaluate(env, model, held, count),
             eval_line=lambda e: f"held-out PSNR {e['psnr']:.2f} dB, perplexity {e['perplexity']:.1f}",
             write_out=write_out)


if __name__ == '__main__':
    main()
