"""Data-parallel training over the processes of a torch.distributed group.

``fit`` trains data-parallel whenever a process group with more than one
process is initialised (``torchrun``, or :func:`sklearn_ndim.distributed.fit_distributed`):
every process passes the same ``X``, trains on its own equal shard inside
:class:`~torch.nn.parallel.DistributedDataParallel`, and scores its rows
against the embeddings gathered from all processes, so the effective batch
(and InfoNCE's ``ln B`` ceiling) grows with the number of processes.
"""

import contextvars
import math
import os
import sys
from contextlib import contextmanager

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "ProcessGroup",
    "initialised_group",
    "current_group",
    "data_parallel",
    "gather_with_grad",
    "gather",
    "mean_across",
    "broadcast_int",
    "average_gradients",
    "average_buffers",
    "PairChannel",
    "leave_worker_process",
]


class ProcessGroup:
    """Rank and size of the initialised torch.distributed group.

    Parameters
    ----------
    rank, size : int
    """

    def __init__(self, rank, size):
        self.rank = rank
        self.size = size

    def shard(self, X):
        """This process's rows of ``X``: every ``size``-th row, equal counts on all processes.

        Equal shards give every process the same number of batches per epoch,
        which the collective operations of each step need. A slice: a memmap
        is not read.
        """
        per_process = X.shape[0] // self.size
        return X[self.rank :: self.size][:per_process]

    def shard_indices(self, n_rows):
        """Positions of this process's rows among ``n_rows`` (see :meth:`shard`)."""
        return self.shard(np.arange(n_rows))

    def others(self, X):
        """The rows of ``X`` outside this process's shard, in their order."""
        outside = np.ones(X.shape[0], dtype=bool)
        outside[self.shard_indices(X.shape[0])] = False
        return X[outside]


_ACTIVE = contextvars.ContextVar("sklearn_ndim_data_parallel_group", default=None)


def initialised_group():
    """The initialised torch.distributed group if it has more than one process, or None."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return ProcessGroup(dist.get_rank(), dist.get_world_size())
    return None


def current_group():
    """The group of the data-parallel fit in progress, or None.

    Only ``fit`` acts data-parallel; ``score`` or ``transform`` called on one
    process afterwards stay local (a collective there would wait forever).
    """
    return _ACTIVE.get()


@contextmanager
def data_parallel(group):
    """Make ``group`` (or None) the data-parallel group inside the block."""
    token = _ACTIVE.set(group)
    try:
        yield group
    finally:
        _ACTIVE.reset(token)


class _GatherRows(torch.autograd.Function):
    """All-gather along rows; the backward pass sums each slice's gradient over processes.

    Every process's loss depends on every process's rows, so the gradient of
    the summed losses with respect to this process's rows is the sum, over
    processes, of their gradients for this slice (all-reduce, then slice:
    gloo has no reduce-scatter).
    """

    @staticmethod
    def forward(ctx, tensor):
        ctx.rank, ctx.rows = dist.get_rank(), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(tensor):
    """Rows of ``tensor`` from every process, concatenated in rank order, with gradients."""
    return _GatherRows.apply(tensor)


@torch.no_grad()
def gather(tensor):
    """Rows of ``tensor`` from every process, concatenated in rank order (no gradients)."""
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def _collective_device():
    """Where a scalar must live for a collective: NCCL only moves CUDA tensors."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_across(value):
    """Mean of the float ``value`` over all processes."""
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(tensor)
    return float(tensor.item()) / dist.get_world_size()


def check_same_rows(X, scaler):
    """Refuse a group whose processes were given different rows, in every process.

    A data-parallel fit shards one ``X`` that every process holds; different
    rows would train different models in silence, or abort in a later
    collective. The fingerprint is the shape, the input statistics (when
    standardising) and the sum of the first 1,000 rows: equal bit for bit on
    equal data. A process whose own checks failed passes ``X=None``: the
    others then fail too, instead of waiting for it in a later collective,
    and this one returns to raise its own error.
    """
    if X is None:
        values = [math.nan] * 5 + [1.0]
    else:
        head = np.ascontiguousarray(X[:1000], dtype=np.float64)
        values = [X.shape[0], X.shape[1], scaler.mean.sum(), scaler.scale.sum(), head.sum(), 0.0]
    fingerprint = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    everyone = gather(fingerprint[None])
    if bool(everyone[:, 5].any()):
        if X is None:
            return
        failed = ", ".join(str(rank) for rank in torch.nonzero(everyone[:, 5]).flatten().tolist())
        raise ValueError(
            f"Process {failed} of this torch.distributed group failed its checks of X or the "
            "parameters (its own error says why), so this process stops too."
        )
    if not bool((everyone[:, :5] == everyone[0, :5]).all()):
        rows = ", ".join(str(int(n)) for n in everyone[:, 0].tolist())
        raise ValueError(
            "The processes of this torch.distributed group were given different rows (rows per "
            f"process: {rows}; their contents differ where the counts agree). A data-parallel "
            "fit needs the same X in every process and shards it itself: load all rows in "
            "every process (a numpy memmap costs no memory per process)."
        )


def broadcast_int(value):
    """Process 0's integer ``value``, on every process."""
    tensor = torch.tensor([int(value)], dtype=torch.int64, device=_collective_device())
    dist.broadcast(tensor, src=0)
    return int(tensor.item())


def average_gradients(parameters):
    """Average the gradients of ``parameters`` over all processes, in place.

    One collective for all of them, in one flat buffer: each collective costs
    a round trip (about 2 ms with gloo on one machine), which dominated the
    small steps of the decoder when made per tensor.
    """
    grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
    if not grads:
        return
    flat = torch.cat([grad.reshape(-1) for grad in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


@torch.no_grad()
def average_buffers(module):
    """Average ``module``'s floating-point buffers (BatchNorm statistics) over all processes.

    DistributedDataParallel broadcasts process 0's buffers before each
    forward pass, but every process then updates them with its own batch, so
    after training they differ by process. Averaged, every process's model
    is the same, and its statistics come from all the last batches.
    """
    size = dist.get_world_size()
    for buffer in module.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer)
            buffer /= size


class PairChannel(nn.Module):
    """The encoder-to-channel part of the step, as a module DDP can wrap.

    ``forward(view_a, view_b, generator)`` returns the clean and noisy
    critic inputs of :meth:`InfoMaxModule.pair_channel`.
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, view_a, view_b, generator=None):
        return self.module.pair_channel(view_a, view_b, generator)


def wrap(module):
    """``module``'s pair channel inside DistributedDataParallel."""
    device_ids = None
    parameter = next(module.parameters())
    if parameter.device.type == "cuda":
        device_ids = [parameter.device.index]
    return nn.parallel.DistributedDataParallel(PairChannel(module), device_ids=device_ids)


def seed_offset(group):
    """Per-process offset of the training seed (views and noise must differ by rank)."""
    return 0 if group is None else int(np.uint32(group.rank * 7919))


def leave_worker_process():
    """End a spawned worker process now, after its process group is destroyed.

    With gloo, a process that has destroyed its group and returned can still
    abort during interpreter teardown ("terminate called without an active
    exception", SIGABRT): measured in one of 12 to 40 two-process fits on digits, on
    torch 2.13, always after ``destroy_process_group`` had returned on both
    ranks. The worker's results are saved by then, so it flushes its output
    and exits without the teardown.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
