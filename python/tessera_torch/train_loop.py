"""The training loop the three trainers share, as tensor-core's Trainer (src/train/trainer.ts) runs
it: the process set-up, an exact resume from the checkpoint directory, the optimizer on the wrapped
model, then per step the scheduled learning rate, the trainer's own step, the logged metrics and a
non-finite loss check; a stop request (SIGINT/SIGTERM on any rank) checkpoints and ends the run
resumably; held-out evaluation and checkpoints at their cadence, a final evaluation and
checkpoint, and the trained model written out by rank 0.

What differs between models stays in the trainer: its data, its step (forward, backward, the
optimizer step), its evaluation, and what it writes."""
import json
import time

import numpy as np
import torch

from . import distributed as D
from .train_common import Logger, recipe_changes, resume_state, run_record, save_training_checkpoint, set_lr


def start(args):
    """(env, logger, stop request) of a run: the process group, torch threads, rank-0 logging."""
    env = D.setup(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    return env, Logger(env, args.log, args.log_every), D.StopRequest()


def resume(env, log, directory, module, sampler, random, recipe):
    """Loads the checkpoint in `directory`, if there is one, exactly: the weights into `module`, the
    state of the data order (`sampler`) and of the random stream; says where it resumed from and what
    in the recipe changed since. (step, optimizer moments, the checkpoint's extra), or (0, {}, {})."""
    resumed = resume_state(env, directory)
    if not resumed:
        return 0, {}, {}
    weights, moments, state, path = resumed
    module.load_state_dict(weights)
    step = state['step']
    sampler.set_state(state['extra']['sampler'])
    random.set_state(state['random'])
    log.info(f'resumed from {path} at step {step}')
    changes = recipe_changes(state['extra'].get('recipe'), recipe)
    if changes:
        log.info('recipe changed since the checkpoint: ' + ', '.join(changes))
    return step, moments, state['extra']


def wrap(env, args, module, make_optimizer, moments, step):
    """The module on its device, wrapped for DDP or FSDP, and its optimizer (with the resumed moments).
    (model, optimizer, trained): `trained` is what the optimizer's parameters come from."""
    module.to(env.device)
    model = D.wrap(env, module, args.fsdp)
    trained = model if args.fsdp else module
    optimizer = make_optimizer(trained)
    if moments:
        D.load_moments(model, optimizer, moments, step)
    return model, optimizer, trained


def log_start(log, env, module, items, batch, config):
    log.info(f"{env.world} process(es), {env.backend or 'single process'} on {env.device}; {sum(x.numel() for x in module.parameters())} parameters; "
             f"{items}; global batch {batch}; {json.dumps(config)}")


def run(env, args, log, stop, *, model, optimizer, sampler, random, recipe, step, checkpoints, lr_at, train_step, line,
        checkpoint_extra=dict, evaluate=None, eval_line=None, nonfinite_advice='lower the learning rate or clip gradients', write_out):
    """Trains from `step` to --until (default --steps) and tears the process group down.

    train_step(step, lr) runs one optimizer step and returns its metrics, 'loss' first, as they are
    logged between 'step' and 'ms'; line(metrics) is the console line between 'step N:' and the
    step's time. evaluate(count) (None: every held-out item) gives held-out metrics, eval_line(them)
    their console line; None when there is no held-out set. A checkpoint's extra holds the sampler's
    state, checkpoint_extra()'s entries and the recipe. write_out(weights, last_eval, record) runs on
    rank 0 when --out is given: record(metrics) is the run's entry for the manifest."""
    until = args.until or args.steps

    def checkpoint():
        save_training_checkpoint(env, checkpoints, model, optimizer, step, random.state(),
                                 {'sampler': sampler.state(), **checkpoint_extra(), 'recipe': recipe})

    def held_out(final):
        result = {'step': step, **evaluate(None if final else args.eval_count)}
        log.record({'eval': result, 'final': True} if final else {'eval': result})
        log.info(f'eval @{step}: {eval_line(result)}')
        return result

    started, first_step, last_eval = time.time(), step, None
    while step < until:
        t0 = time.time()
        lr = lr_at(step)
        set_lr(optimizer, lr)
        metrics = train_step(step, lr)
        if args.step_delay_ms:
            time.sleep(args.step_delay_ms / 1000)
        metrics = {'step': step, **metrics, 'ms': (time.time() - t0) * 1000}
        loss = metrics['loss']
        if not np.isfinite(loss):
            raise SystemExit(f'loss became {loss} at step {step}: {nonfinite_advice}, then resume from the last checkpoint')
        step += 1
        log.step(metrics, f"step {step}: {line(metrics)} {metrics['ms']:.0f} ms/step")
        if D.any_rank(env, stop.requested):
            checkpoint()
            log.info(f'stopped at step {step}: checkpoint in {checkpoints}; rerun the same command to continue')
            D.teardown(env)
            return
        if evaluate is not None and args.eval_every and step % args.eval_every == 0 and step < until:
            last_eval = held_out(final=False)
        if args.checkpoint_every and step % args.checkpoint_every == 0 and step < until:
            checkpoint()
    if evaluate is not None:
        last_eval = held_out(final=True)
    checkpoint()
    if args.out:
        weights, _ = D.full_state(env, model, optimizer)
        if env.main:
            write_out(weights, last_eval, lambda metrics: run_record(env, args, first_step, step, time.time() - started, recipe, metrics))
            log.info(f'wrote {args.out} (step {step})')
        D.barrier(env)
    D.teardown(env)
