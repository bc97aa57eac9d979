"""The distributed side of the trainers: process group from torchrun's environment (NCCL on GPUs,
gloo on CPUs, chosen from the device), the sharding of Tessera's global batches, DDP or FSDP
wrapping, and full (unsharded) weights and AdamW moments under Tessera's names for checkpoints.

Data order. torch's DistributedSampler shards one epoch permutation by striding
(indices[rank::world], padded to equal length), so what a rank sees depends on the world size, and
its order is not Tessera's. Tessera's trainers draw each step's global batch from an EpochSampler
(a mulberry32 permutation per epoch, seeded by dataSeed) and every other per-step draw from
(dataSeed, step). `TesseraBatchSampler` runs that same EpochSampler on every rank and gives each
rank a contiguous 1/world of every global batch (and each accumulation micro-step its slice of
that): the union over ranks of each step is exactly the batch one Tessera process trains on, so
the loss curve does not depend on the number of processes, and resuming needs only the sampler's
{seed, epoch, cursor}, which Tessera's checkpoints already hold.
"""
import os
import signal
import sys

import torch
import torch.distributed as dist

from .rng import EpochSampler


class Env:
    """rank, world, local_rank, device, backend ('nccl' | 'gloo' | None when single-process)."""

    def __init__(self, rank, world, local_rank, device, backend):
        self.rank, self.world, self.local_rank, self.device, self.backend = rank, world, local_rank, device, backend

    @property
    def main(self):
        return self.rank == 0

    @property
    def distributed(self):
        return self.backend is not None


def setup(device='auto'):
    """Initialises the process group when launched by torchrun (RANK/WORLD_SIZE in the environment):
    NCCL when this process has a GPU, gloo otherwise. Single process otherwise."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    if device == 'auto':
        device = f'cuda:{local_rank}' if torch.cuda.is_available() else 'cpu'
    elif device == 'cuda':
        device = f'cuda:{local_rank}'
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    backend = None
    if 'RANK' in os.environ and 'WORLD_SIZE' in os.environ:
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
        dist.init_process_group(backend)
    return Env(rank, world, local_rank, device, backend)


def teardown(env):
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(env, values):
    """Sums a list of floats over ranks (in f64), returning a list of floats."""
    t = torch.tensor(values, dtype=torch.float64, device=env.device if env.backend == 'nccl' else 'cpu')
    if env.distributed:
        dist.all_reduce(t)
    return t.tolist()


def all_reduce_tensor(env, t):
    if env.distributed:
        moved = t.to(env.device) if env.backend == 'nccl' else t.cpu()
        dist.all_reduce(moved)
        return moved.to(t.device)
    return t


def any_rank(env, flag):
    """True on every rank when `flag` is true on any (to stop all ranks at the same step)."""
    if not env.distributed:
        return bool(flag)
    return all_reduce_sum(env, [1.0 if flag else 0.0])[0] > 0


def barrier(env):
    if env.distributed:
        dist.barrier()


class TesseraBatchSampler(torch.utils.data.Sampler):
    """Tessera's EpochSampler over the global batch, sharded: each iteration is one step, yielding
    this rank's `accum` micro-batches (lists of dataset indices). Its state is the EpochSampler's."""

    def __init__(self, length, global_batch, seed, rank=0, world=1, accum=1):
        if global_batch % (world * accum):
            raise ValueError(f'the global batch {global_batch} must split evenly over {world} processes x {accum} accumulation steps')
        self.sampler = EpochSampler(length, global_batch, seed)
        self.rank, self.world, self.accum = rank, world, accum
        self.local = global_batch // world
        self.micro = self.local // accum

    def next_global(self):
        """The step's global batch (every rank draws the same)."""
        return self.sampler.next()

    def shard(self, global_indices):
        """(start, [micro-batch index lists]) of this rank: its contiguous slice of the global batch."""
        start = self.rank * self.local
        mine = global_indices[start:start + self.local]
        return start, [mine[a * self.micro:(a + 1) * self.micro] for a in range(self.accum)]

    def __iter__(self):
        while True:
            yield self.shard(self.next_global())[1]

    def state(self):
        return self.sampler.state()

    def set_state(self, state):
        self.sampler.set_state(state)


def wrap(env, model, fsdp=False):
    """DDP (or FSDP with --fsdp) around `model` when distributed; the model itself otherwise."""
    if not env.distributed:
        return model
    if fsdp:
        try:
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        except Exception as error:  # Debian's torch 1.13 on Python 3.11: FSDP does not import
            raise SystemExit(f'--fsdp needs torch.distributed.fsdp, which does not import here ({type(error).__name__}: {error}); use PyTorch >= 2.0') from None
        return FSDP(model, use_orig_params=True, device_id=env.device if env.device.type == 'cuda' else None)
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[env.device.index] if env.device.type == 'cuda' else None)


def is_fsdp(model):
    return type(model).__name__ == 'FullyShardedDataParallel'


def unwrapped(model):
    """The model inside DDP / FSDP (under FSDP its parameters are whole only inside full_params)."""
    return model.module if hasattr(model, 'module') else model


def full_params(model):
    """A context in which an FSDP model's parameters are whole on every rank (evaluation calls its
    submodules directly); a no-op context for DDP and single processes."""
    import contextlib
    if is_fsdp(model):
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        return FSDP.summon_full_params(model, writeback=False)
    return contextlib.nullcontext()


class _AllGather(torch.autograd.Function):
    """Concatenates every rank's rows (in rank order); backward sums the gradients of the gathered
    tensor over ranks (each rank's loss is the whole batch's) and hands each rank its rows'. Plain
    all_gather + all_reduce on a group of its own (DDP's gradient all-reduces use the default one),
    so it runs on gloo too (torch.distributed.nn's uses reduce_scatter or all_to_all)."""

    @staticmethod
    def forward(ctx, x, group):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, x.contiguous(), group=group)
        ctx.rows, ctx.rank, ctx.group = x.shape[0], dist.get_rank(group), group
        return torch.cat(parts, 0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, group=ctx.group)
        return grad[ctx.rank * ctx.rows:(ctx.rank + 1) * ctx.rows], None


def all_gather_with_grad(env):
    """A gather function for CLIP's forward (every rank must call this at the same point): None in one process."""
    if not env.distributed:
        return None
    group = dist.new_group()
    return lambda x: _AllGather.apply(x, group)


def no_sync(model, skip):
    """DDP's no_sync() for accumulation micro-steps before the last one (a no-op context otherwise)."""
    import contextlib
    if skip and hasattr(model, 'no_sync'):
        return model.no_sync()
    return contextlib.nullcontext()


def full_state(env, model, optimizer):
    """(weights {name: cpu tensor}, moments {name: {'exp_avg', 'exp_avg_sq'}}) unsharded, on rank 0
    (other ranks get None under FSDP; under DDP every rank holds them whole)."""
    if is_fsdp(model):
        from torch.distributed.fsdp import FullOptimStateDictConfig, FullStateDictConfig, StateDictType
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True),
                                  FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=True)):
            weights = model.state_dict()
            osd = FSDP.optim_state_dict(model, optimizer)
        if not env.main:
            return None, None
        moments = {name: {k: v.detach().float().cpu() for k, v in s.items() if k in ('exp_avg', 'exp_avg_sq')} for name, s in osd['state'].items()}
        return {k: v.detach().float().cpu() for k, v in weights.items()}, moments
    module = unwrapped(model)
    weights = {k: v.detach().float().cpu() for k, v in module.state_dict().items()}
    moments = {}
    for name, p in module.named_parameters():
        s = optimizer.state.get(p)
        if s and 'exp_avg' in s:
            moments[name] = {'exp_avg': s['exp_avg'].detach().float().cpu(), 'exp_avg_sq': s['exp_avg_sq'].detach().float().cpu()}
    return weights, moments


def load_moments(model, optimizer, moments, step):
    """Sets AdamW's moments (Tessera names) and step count on the parameters of an unwrapped model,
    before it is wrapped (DDP) — or through FSDP's optimizer state loading."""
    if is_fsdp(model):
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        names = [n for n, _ in model.named_parameters()]
        osd = {'state': {n: {'step': torch.tensor(float(step)), **{k: v.clone() for k, v in moments[n].items()}} for n in names if n in moments},
               'param_groups': [{**{k: v for k, v in g.items() if k != 'params'}, 'params': names} for g in optimizer.param_groups]}
        import inspect
        if next(iter(inspect.signature(FSDP.optim_state_dict_to_load).parameters)) == 'model':
            loaded = FSDP.optim_state_dict_to_load(model, optimizer, osd)  # torch >= 2.1
        else:
            loaded = FSDP.optim_state_dict_to_load(osd, model, optimizer)  # torch 2.0
        optimizer.load_state_dict(loaded)
        return
    module = unwrapped(model)
    for name, p in module.named_parameters():
        if name in moments:
            optimizer.state[p] = {'step': torch.tensor(float(step)), 'exp_avg': moments[name]['exp_avg'].to(p.device, p.dtype).clone(),
                                  'exp_avg_sq': moments[name]['exp_avg_sq'].to(p.device, p.dtype).clone()}


def clip_grad_norm(model, max_norm):
    if is_fsdp(model):
        return model.clip_grad_norm_(max_norm)
    return torch.nn.utils.clip_grad_norm_(unwrapped(model).parameters(), max_norm)


class StopRequest:
    """SIGINT / SIGTERM (torchrun forwards them to every worker): stop at the next step boundary with
    a checkpoint, as Tessera's trainers do on abort."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            sys.exit(128 + signum)
        self.requested = True
