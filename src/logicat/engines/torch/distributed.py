"""Data parallelism with ``torch.distributed``: process groups, shards, and the torchrun launcher.

Each of the N processes (ranks) holds rows [start, stop) of the training set (``shard_range``;
shard sizes differ by at most one). Full-batch gradient descent divides each rank's summed loss
by the total m and sums the gradients over the ranks with one all-reduce per iteration:

    dJ/dtheta = (1/m) sum_r sum_{i in shard r} dL_i/dtheta

which is the single-process gradient, whatever the shard sizes. gloo runs on the CPU, nccl on
CUDA devices. Launch with ``torchrun --nproc_per_node=N -m logicat train --engine torch`` or with
``logicat train --engine torch --nproc N``, which starts torchrun itself (``run_torchrun``).
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Sequence

import numpy as np
import torch
import torch.distributed as torch_dist

from logicat.core.errors import ParameterError
from logicat.core.machine import CHOSEN, usable_cpus

#: Seconds any rendezvous or collective may wait before the processes give up (never a hang).
DEFAULT_TIMEOUT_S = 300.0


def shard_range(m: int, rank: int, world_size: int) -> tuple[int, int]:
    """Rows [start, stop) of rank ``rank`` among ``world_size``: contiguous, sizes differ <= 1."""
    if not 0 <= rank < world_size:
        raise ParameterError(f"rank must be in [0, {world_size}). Got {rank} instead.")
    base, extra = divmod(m, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def is_distributed() -> bool:
    """True inside an initialized process group of more than one process."""
    return (
        torch_dist.is_available()
        and torch_dist.is_initialized()
        and torch_dist.get_world_size() > 1
    )


def all_reduce_sum_(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place."""
    torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
    return tensor


def all_reduce_gradients(params, value: torch.Tensor) -> torch.Tensor:
    """Sum every parameter's gradient, and ``value`` (one number), over all processes in one
    all-reduce of one flat buffer; the gradients are replaced by their sums, and the sum of
    ``value`` is returned."""
    params = list(params)
    flat = torch.cat([p.grad.reshape(-1) for p in params] + [value.detach().reshape(1)])
    all_reduce_sum_(flat)
    start = 0
    for p in params:
        p.grad.copy_(flat[start:start + p.numel()].view_as(p))
        start += p.numel()
    return flat[-1]


def any_process(flag: bool, device: torch.device) -> bool:
    """Whether ``flag`` is true on any process (a callback of rank 0 stopping stops all)."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    return bool(all_reduce_sum_(t).item() > 0)


def all_reduce_count(count: int, device: torch.device) -> int:
    """The sum of an integer over all processes (e.g. the total number of examples)."""
    t = torch.tensor([count], dtype=torch.int64, device=device)
    return int(all_reduce_sum_(t).item())


def timeout_s() -> float:
    """``$LOGICAT_DIST_TIMEOUT`` seconds, default ``DEFAULT_TIMEOUT_S``."""
    raw = os.environ.get("LOGICAT_DIST_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ParameterError(
            f"LOGICAT_DIST_TIMEOUT must be a number of seconds > 0. Got {raw!r} instead."
        )
    return value


class ProcessGroup:
    """This process's place in a torchrun job: joins the group on creation; ``close()`` leaves.

    ``device`` is "auto", "cpu" or "cuda": CUDA uses nccl and the GPU ``LOCAL_RANK``; the CPU
    uses gloo.
    """

    def __init__(self, device: str = "auto") -> None:
        self.rank = int(os.environ["RANK"])
        self.world_size = int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if use_cuda:
            torch.cuda.set_device(local_rank)
            self.device = torch.device("cuda", local_rank)
        else:
            self.device = torch.device("cpu")
        if not torch_dist.is_initialized():
            torch_dist.init_process_group(
                backend="nccl" if use_cuda else "gloo",
                timeout=datetime.timedelta(seconds=timeout_s()),
                **({"device_id": self.device} if use_cuda else {}),
            )

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, m: int) -> tuple[int, int]:
        return shard_range(m, self.rank, self.world_size)

    def sum(self, value: float) -> float:
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        return float(all_reduce_sum_(t).item())

    def close(self) -> None:
        """Leave the group once every process is done (a process that left while another was
        still writing its model file could take gloo's threads down with it)."""
        if torch_dist.is_initialized():
            try:
                torch_dist.barrier()
            finally:
                torch_dist.destroy_process_group()


def torchrun_command(nproc: int, module_args: Sequence[str]) -> list[str]:
    """``python -m torch.distributed.run`` for N local processes rendezvousing on 127.0.0.1."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        f"--nproc-per-node={int(nproc)}",
        "--rdzv-backend=c10d",
        "--rdzv-endpoint=127.0.0.1:0",
        f"--rdzv-id={uuid.uuid4()}",
        f"--rdzv-conf=join_timeout={int(timeout_s())}",
        "--max-restarts=0",
        "--monitor-interval=0.5",
        "-m",
        *module_args,
    ]


def run_torchrun(nproc: int, module_args: Sequence[str]) -> int:
    """Run ``python -m <module_args>`` in N processes under torchrun; return its exit status.

    The processes talk over the loopback interface; a process that waits longer than
    ``$LOGICAT_DIST_TIMEOUT`` seconds for the others fails, and torchrun then stops the rest.
    torchrun's own failure report is replaced by one line on stderr.
    """
    env = dict(os.environ)
    env.setdefault("GLOO_SOCKET_IFNAME", _loopback_interface())
    if "OMP_NUM_THREADS" in CHOSEN or "OMP_NUM_THREADS" not in env:  # the cores, shared out
        env["OMP_NUM_THREADS"] = str(max(1, usable_cpus() // int(nproc)))
    env.setdefault("LOGLEVEL", "ERROR")
    proc = subprocess.Popen(
        torchrun_command(nproc, module_args),
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stderr is not None
    seen: set[str] = set()
    try:
        for line in proc.stderr:
            if _torchrun_noise(line) or line in seen:
                continue
            if line.startswith(("Error:", "Warning:")):
                seen.add(line)  # every rank reports the same problem: say it once
            sys.stderr.write(line)
            sys.stderr.flush()
        return proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise


def _loopback_interface() -> str:
    try:
        import socket

        names = [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):
        return "lo"
    return (
        "lo" if "lo" in names or not names else next((n for n in names if n.startswith("lo")), "lo")
    )


# torchrun's own log lines (glog style) and its failure report; the workers' lines pass through.
_NOISE = re.compile(
    r"^([EWIDF]\d{4} |\s|Traceback|torch\.|\w*Error: .*ChildFailed|.* FAILED$|\[\d+\]:|"
    r"=+$|-+$|\*+$|Failures:|Root Cause|To enable traceback|<NO_OTHER_FAILURES>)"
)


def _torchrun_noise(line: str) -> bool:
    return bool(_NOISE.match(line)) and not os.environ.get("LOGICAT_DEBUG")


def load_catvnoncat_shard(folder, group: ProcessGroup):
    """The cat data as this rank sees it: its shard of the training set (read as one slice);
    the test set on rank 0 only (empty elsewhere).
    """
    from logicat.data.catvnoncat import TEST_FILE, TRAIN_FILE, CatData, load_h5_dataset
    from logicat.engines.torch.datasets import H5CatDataset, h5_rows

    shard = H5CatDataset(folder / TRAIN_FILE, *group.shard(h5_rows(folder / TRAIN_FILE)))
    train_x, train_y = shard.read()
    shard.close()
    if group.is_main:
        test_x, test_y, _ = load_h5_dataset(folder / TEST_FILE)
    else:
        test_x, test_y = np.empty((0, *train_x.shape[1:]), np.uint8), np.empty(0, np.int64)
    return CatData(train_x, train_y, test_x, test_y, shard.classes)


# ------------------------------------------------------------------ differentiable
class _SumOverProcesses(torch.autograd.Function):
    """y = the sum of x over the processes; its backward, the sum of dJ/dy over them (each
    process's J depends on every process's x through y)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as torch_dist

        y = x.clone()
        torch_dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as torch_dist

        grad = grad.clone()
        torch_dist.all_reduce(grad)
        return grad


def all_reduce(x: torch.Tensor) -> torch.Tensor:
    """The sum of ``x`` over the processes, differentiably (its gradient is summed too)."""
    return _SumOverProcesses.apply(x)


class GlobalBatchNorm2d(torch.nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the whole batch, spread over the
    processes: the mean, then the mean squared deviation from it, each summed over the
    processes by a differentiable all-reduce. PyTorch's ``SyncBatchNorm`` does this on GPUs
    only; this runs on gloo too. Inference uses the running statistics, as BatchNorm2d does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        local = torch.cat([x.sum(dim=(0, 2, 3)), x.new_tensor(
            [float(x.shape[0] * x.shape[2] * x.shape[3])])])
        total = all_reduce(local)  # (C + 1,): each channel's sum, and the number of values
        count = total[-1:].detach()
        mean = total[:-1] / count  # (C,)
        centered = x - mean.view(1, -1, 1, 1)
        var = all_reduce((centered * centered).sum(dim=(0, 2, 3))) / count
        with torch.no_grad():  # the running statistics, as BatchNorm2d keeps them
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mean.detach())
            self.running_var.mul_(1 - m).add_(m * var.detach() * count / (count - 1))
            self.num_batches_tracked.add_(1)
        scale = self.weight / torch.sqrt(var + self.eps)
        return centered * scale.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
