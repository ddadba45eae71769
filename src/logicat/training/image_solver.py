"""An image network (the ConvNet, or any list of layers) trained by PyTorch, as a solver of the
one training loop: one optimizer step per batch the loop hands it.

Each epoch the loop asks ``ImageBatches`` for its mini-batches: the training rows shuffled by
the run's ``torch.Generator`` (``draws``, seeded), each batch read from its source (images in
memory, or rows of a packed HDF5 file read as they are needed), augmented (``augment``),
optionally mixed in pairs (mixup, CutMix) and its labels smoothed - every draw from that one
generator. The solver takes one step per batch (any rule of the one registry, ``OPTIMIZERS``,
as its ``torch.optim`` twin: AdamW by default; weight decay on the convolution and linear
weights only, not on biases or BatchNorm's scale and shift) at the rate the loop gives each
step (``steps_per_epoch``, ``logicat.training.schedules``). The cost the loop records for an
epoch is the mean training loss of its batches (on the augmented images, as they were trained
on; weighted by the sample weights, if any). Batches of one image are skipped: BatchNorm needs
two.

Seeded and reproducible: the initial weights come from ``torch.manual_seed(seed)`` on the CPU
(then moved to the device), every random draw of shuffling and augmentation from the solver's
generator on the CPU, and deterministic algorithms are asked for while training, so the same
seed gives the same model on the same machine. Dropout draws from torch's global generator, so the
solver sets it to a state of its own (seeded by ``seed + 2``) while it trains and puts the
caller's back after. ``state()`` holds everything else a run needs to go on exactly where it
stopped - the optimizer's moments and step count, both generators' states - and a checkpoint
saves it with the parameters and the BatchNorm statistics. (On a CUDA device, dropout draws from
the device's generator, which is not kept: a resumed run with dropout on CUDA is not exact.)

Weight averaging (``average``, ``torch.optim.swa_utils.AveragedModel``): "ema" keeps an
exponential moving average of the weights after every step (``average_decay``), "swa" the mean
of the weights after each epoch from ``average_start`` of the run on (Izmailov et al., 2018);
the fit ends with the averaged weights and their batch norms' statistics recomputed
(``final_params``), and a checkpoint holds the average so far (``average.<name>``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
import torch
from torch.nn import functional as F

from logicat.core.errors import ModelFileError
from logicat.engines.torch.augment import Augmentation, augment, cut_batch, mix_batch
from logicat.engines.torch.distributed import GlobalBatchNorm2d
from logicat.engines.torch.layers import ConvNet, images_to_tensor
from logicat.nn.convnet import ConvNetSpec, param_shapes
from logicat.nn.layers import walk
from logicat.nn.optimizer_state import moments, update_rule
from logicat.training.loop import Solver
from logicat.training.optimizers import torch_optimizer

#: images per forward pass when the validation cost is computed
_EVAL_BATCH = 256


class ImageRows(Protocol):
    """Where the training images come from (``logicat.training.image_fit``: in memory or a
    packed file): ``m`` images of ``image_size``; ``rows(idx)`` gives images idx as uint8 (or
    [0, 1] float) (k, s, s, 3); ``channel_stats()`` the per-channel mean and standard
    deviation of all of them in [0, 1]."""

    m: int
    image_size: int

    def rows(self, idx: np.ndarray) -> np.ndarray: ...

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]: ...


class ConvNetSolver(Solver):
    """One epoch of mini-batch training per ``run`` iteration.

    spec : the architecture; source : the images (``ImageRows``); y : (m,) labels 0/1;
    train : the rows trained on (the others are held out for validation); hyper : the ConvNet
    hyperparameters (``logicat.training.hyperparameters.CONVNET_DEFAULTS``' names); device : a
    ``torch.device``; weights : (m,) sample weights or None; dtype : of the arithmetic (float32;
    float64 to check it against logicat's own engine).
    """

    def __init__(self, spec: ConvNetSpec, source: ImageRows, y: np.ndarray, train: np.ndarray,
                 hyper: dict[str, Any], device: torch.device,
                 weights: np.ndarray | None = None, dtype: torch.dtype = torch.float32,
                 distributed: bool = False) -> None:
        self.spec, self.hyper, self.device, self.dtype = spec, hyper, device, dtype
        #: data parallelism (``torch.distributed``, already initialised): every process draws
        #: the same batches and augments all of each, then trains on its share of it
        self.distributed = distributed
        self.source = source
        self.names = tuple(param_shapes(spec))
        seed = int(hyper["random_state"] or 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = ConvNet(spec, dropout=float(hyper.get("dropout", 0.0))).to(dtype)
        mean, std = source.channel_stats()  # the input normalisation: the images' channel stats
        with torch.no_grad():
            net.input.mean.copy_(torch.as_tensor(mean, dtype=dtype))
            net.input.std.copy_(torch.as_tensor(std, dtype=dtype).clamp_min(1e-3))
        if distributed:
            for module in net.modules():  # batch statistics over the whole batch, not a share
                if type(module) is torch.nn.BatchNorm2d:
                    module.__class__ = GlobalBatchNorm2d
        self.net = net.to(device)
        #: on CPUs, oneDNN's convolutions run 1.3x faster on channels-last tensors (NHWC in
        #: memory; BENCHMARKS.md, "The ConvNet on the one training path"); the values and
        #: shapes are the same, only the strides differ. Not for a network with a convolution
        #: whose stride exceeds its kernel (a residual block's 1x1 stride-2 shortcut): torch
        #: 2.13's channels-last backward of one corrupts the heap with 2 threads and batches of
        #: changing size, when it reads few channels (docs/networks.md, "Known limits")
        strided = any(lay.type == "conv2d" and lay["stride"] > lay["kernel"]
                      for lay in walk(net.layers))
        self.memory_format = (torch.channels_last if device.type == "cpu" and not strided
                              else torch.contiguous_format)
        self.net = self.net.to(memory_format=self.memory_format)
        self.y = torch.as_tensor(np.asarray(y), dtype=dtype, device=device)
        self.train = np.asarray(train, dtype=np.int64)
        self.weights = None
        if weights is not None:  # normalised to mean 1 over the rows trained on
            w = np.asarray(weights, np.float64)
            self.weights = torch.as_tensor(w / w[self.train].mean(), dtype=dtype, device=device)
        #: the run's generator (shuffling, augmentation, mixing), which the loop keeps
        self.draws = torch.Generator().manual_seed(seed + 1)
        # dropout draws from torch's global generator: the solver keeps that state for itself
        self.dropout_state = torch.Generator().manual_seed(seed + 2).get_state()
        named = list(self.net.named_parameters())
        decay = [(n, p) for n, p in named if p.ndim > 1]
        no_decay = [(n, p) for n, p in named if p.ndim <= 1]
        #: the trained tensors' names, in the optimizer's order (its state is saved by name)
        self.trainable = tuple(n for n, _ in decay + no_decay)
        groups = [{"params": [p for _, p in decay], "weight_decay": float(hyper["weight_decay"])},
                  {"params": [p for _, p in no_decay], "weight_decay": 0.0}]
        lr, momentum = float(hyper["learning_rate"]), float(hyper["momentum"])
        rule = update_rule(hyper["optimizer"], momentum)  # one registry: OPTIMIZERS
        self.optimizer = torch_optimizer(rule, groups, lr, momentum)
        self.batch_size = int(hyper["batch_size"])
        #: the batches the loop hands to ``step``
        self.batches = ImageBatches(self, hyper)
        self.steps_per_epoch = self.batches.steps
        #: weight averaging (``average``): the averaged copy of the network, and the first
        #: epoch whose weights it takes (EMA: every step from the first; SWA: each epoch's end
        #: from ``average_start`` of the run on)
        self.average, self.average_from = None, 0
        if hyper.get("average"):
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            ema = hyper["average"] == "ema"
            self.average = AveragedModel(self.net, multi_avg_fn=get_ema_multi_avg_fn(
                float(hyper["average_decay"])) if ema else None)
            self.average_from = 0 if ema else int(float(hyper["average_start"])
                                                  * int(hyper["max_iter"]))

    # ------------------------------------------------------------------ the steps
    @contextmanager
    def epoch(self, index: int) -> Iterator[None]:
        """Around epoch ``index``'s steps: training mode, deterministic algorithms, dropout's
        own generator; after them, SWA takes the epoch's weights."""
        self.net.train()
        with _deterministic(), torch.random.fork_rng(devices=[]):
            torch.random.set_rng_state(self.dropout_state)
            yield
            if (self.average is not None and self.hyper["average"] == "swa"
                    and index >= self.average_from):
                self.average.update_parameters(self.net)
            self.dropout_state = torch.random.get_rng_state()

    def batch(self, idx: np.ndarray) -> torch.Tensor:
        """Images idx as (k, 3, s, s) floats in [0, 1] on the device."""
        return images_to_tensor(self.source.rows(idx), self.dtype, self.device)

    def step(self, batch: tuple, lr: float) -> float:
        """One optimizer step on an (augmented) batch: images, labels, weights or None."""
        x, y, w = batch
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        if self.distributed:
            loss = self._share_loss(x, y, w)
        else:
            z = self.net(x)
            if w is None:
                loss = F.binary_cross_entropy_with_logits(z, y)
            else:
                loss = (w * F.binary_cross_entropy_with_logits(z, y, reduction="none")).mean()
            loss.backward()
        self.optimizer.step()
        if self.average is not None and self.hyper["average"] == "ema":
            self.average.update_parameters(self.net)
        return float(loss.detach())

    def _share_loss(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None
                    ) -> torch.Tensor:
        """This process's share of the batch: forward and backward on its rows, the gradients
        summed over the processes. Its loss is its rows' sum / the batch size, so the sum over
        the processes is the batch's mean loss - and its gradient the single process's. Returns
        the batch's mean loss (the same on every process)."""
        import torch.distributed as torch_dist

        from logicat.engines.torch.distributed import all_reduce_gradients, shard_range

        start, stop = shard_range(len(x), torch_dist.get_rank(), torch_dist.get_world_size())
        losses = F.binary_cross_entropy_with_logits(self.net(x[start:stop]), y[start:stop],
                                                    reduction="none")
        if w is not None:
            losses = w[start:stop] * losses
        share = losses.sum() / len(x)
        share.backward()
        return all_reduce_gradients(self.net.parameters(), share)

    def sync_stop(self, stop: bool) -> bool:
        """A callback of one process (rank 0 prints and saves) stopping training stops all."""
        if not self.distributed:
            return stop
        from logicat.engines.torch.distributed import any_process

        return any_process(stop, self.device)

    def validation_cost(self, rows: np.ndarray) -> float:
        """The mean cross-entropy of the model's logit (TTA included) on images ``rows``, in
        inference mode (BatchNorm's running statistics, no dropout), unweighted."""
        self.net.eval()
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(rows), _EVAL_BATCH):
                idx = rows[start:start + _EVAL_BATCH]
                z = self.net.predict_logits(self.batch(idx))
                y = self.y[torch.from_numpy(idx).to(self.device)]
                total += float(F.binary_cross_entropy_with_logits(z, y, reduction="sum"))
        self.net.train()
        return total / len(rows)

    # ------------------------------------------------------------------ the protocol
    def params(self) -> list[np.ndarray]:
        state = self.net.state_dict()
        return [np.ascontiguousarray(state[name].detach().cpu().numpy()) for name in self.names]

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        state = self.net.state_dict()
        with torch.no_grad():
            for name, value in zip(self.names, params, strict=True):
                state[name].copy_(torch.as_tensor(np.asarray(value)))

    def final_params(self) -> list[np.ndarray]:
        """With ``average``, the averaged weights, their batch norms' statistics recomputed by
        one pass over the training images as they are (no augmentation; PyTorch's
        ``swa_utils.update_bn``, seeded: dropout draws too): the statistics of the running
        weights do not fit the averaged ones. Under ``torch.distributed`` each process makes
        that pass alone, over every image, as one process does. Else the weights as they are."""
        if self.average is None or int(self.average.n_averaged) == 0:
            return self.params()
        from torch.optim.swa_utils import update_bn

        order = np.sort(self.train)
        batches = [self.batch(order[i:i + self.batch_size]).contiguous(
            memory_format=self.memory_format) for i in range(0, len(order), self.batch_size)
            if len(order[i:i + self.batch_size]) > 1]
        if self.distributed:  # every process holds every image: its own pass is the whole
            for module in self.average.module.modules():  # one, as one process makes it
                if type(module) is GlobalBatchNorm2d:
                    module.__class__ = torch.nn.BatchNorm2d
        with _deterministic(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.hyper["random_state"] or 0) + 3)
            update_bn(batches, self.average, self.device)
        state = self.average.module.state_dict()
        return [np.ascontiguousarray(state[name].detach().cpu().numpy()) for name in self.names]

    def params_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.net.state_dict().values()
                   if p.is_floating_point())

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The optimizer's state by tensor name (``optimizer.<name>.exp_avg``, ...,
        ``optimizer.step``) and the state of dropout's generator (``rng.dropout``: uint8; the
        loop keeps the run's, ``rng.generator``)."""
        tensors = {"rng.dropout": self.dropout_state.numpy().copy()}
        for i, values in self.optimizer.state_dict()["state"].items():
            for key, value in values.items():
                if value is None:  # SGD without momentum keeps no buffer
                    continue
                if key == "step":
                    tensors["optimizer.step"] = np.array([int(value)], np.int64)
                else:
                    tensors[f"optimizer.{self.trainable[i]}.{key}"] = (
                        value.detach().cpu().numpy().copy())
        if self.average is not None:  # the averaged weights so far, and how many they are
            state = self.average.module.state_dict()
            tensors.update({f"average.{name}": state[name].detach().cpu().numpy().copy()
                            for name in self.names})
            tensors["average.n_averaged"] = np.array([int(self.average.n_averaged)], np.int64)
        return tensors, {}

    def load_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        try:
            dropout = torch.from_numpy(np.array(tensors["rng.dropout"]))
            torch.Generator().set_state(dropout)  # refused here if it is not a state
            self.dropout_state = dropout
        except (KeyError, RuntimeError, ValueError) as e:
            raise ModelFileError(f"the checkpoint's random generator state is not one torch "
                                 f"wrote ({str(e).splitlines()[0][:80]}).") from None
        if self.average is not None and "average.n_averaged" in tensors:
            state = self.average.module.state_dict()
            with torch.no_grad():
                for name in self.names:
                    state[name].copy_(torch.as_tensor(np.array(tensors[f"average.{name}"])))
                self.average.n_averaged.fill_(int(tensors["average.n_averaged"][0]))
        keys = moments(self.hyper["optimizer"], float(self.hyper["momentum"]))
        if not keys or f"optimizer.{self.trainable[0]}.{keys[0]}" not in tensors:
            return  # no state kept, or saved before the first step: nothing to restore
        state = {}
        for i, name in enumerate(self.trainable):
            entry: dict[str, Any] = {key: torch.from_numpy(np.array(
                tensors[f"optimizer.{name}.{key}"])) for key in keys}
            if "optimizer.step" in tensors:  # Adam's and AdamW's
                entry["step"] = torch.tensor(float(tensors["optimizer.step"][0]),
                                             dtype=torch.float32)
            state[i] = entry
        saved = self.optimizer.state_dict()
        self.optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


class ImageBatches:
    """One epoch's image mini-batches for ``ConvNetSolver.step``: the solver's training rows
    shuffled by the run's generator, each batch read from the source, augmented, mixed (mixup,
    CutMix) and its labels smoothed, every draw from that generator, batch after batch (a
    batch of one image is skipped: BatchNorm needs two)."""

    def __init__(self, solver: ConvNetSolver, hyper: dict[str, Any]) -> None:
        self.solver, self.hyper = solver, hyper
        self.train, self.batch_size = solver.train, solver.batch_size
        self.m = len(self.train)
        self.steps = math.ceil(self.m / self.batch_size)
        self.augmentation = Augmentation(
            flip=bool(hyper["flip"]), crop=hyper["crop"], pad=int(hyper["crop_pad"]),
            scale=(float(hyper["crop_min_scale"]), 1.0), rotation=float(hyper["rotation"]),
            brightness=float(hyper["brightness"]), contrast=float(hyper["contrast"]),
            saturation=float(hyper["saturation"]))

    def epoch(self, draws: torch.Generator) -> Iterator[tuple[tuple, int]]:
        solver, smoothing = self.solver, self.hyper["label_smoothing"]
        order = self.train[torch.randperm(self.m, generator=draws).numpy()]
        for b in range(self.steps):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if len(idx) < 2:
                continue
            x = augment(solver.batch(idx), self.augmentation, draws).contiguous(
                memory_format=solver.memory_format)
            rows = torch.from_numpy(idx).to(solver.device)
            y = solver.y[rows]
            w = None if solver.weights is None else solver.weights[rows]
            if smoothing:
                y = y * (1 - smoothing) + 0.5 * smoothing
            yield self._mix(x, y, w, draws), len(idx)

    def _mix(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None,
             draws: torch.Generator) -> tuple:
        """mixup or CutMix of the batch, as asked (``mixup``, ``cutmix``: their Beta's alpha;
        both: one of the two per batch, by a fair coin of the generator), or the batch as it
        is."""
        mixup, cutmix = float(self.hyper["mixup"]), float(self.hyper.get("cutmix", 0.0))
        if mixup and cutmix:
            if torch.rand(1, generator=draws).item() < 0.5:
                mixup = 0.0
            else:
                cutmix = 0.0
        if cutmix:
            return cut_batch(x, y, cutmix, draws, w)
        return mix_batch(x, y, mixup, draws, w) if mixup else (x, y, w)


class _deterministic:
    """Ask PyTorch for deterministic algorithms while training; restore the settings after.
    Without filling every new tensor with NaN first (PyTorch's default in that mode, which
    only matters for an operation that reads memory it did not write): those fills took a
    fifth of an epoch (``benchmarks/convnet_training.py --profile``), and the trained numbers
    are the same bit for bit without them."""

    def __enter__(self) -> None:
        self.before = (torch.are_deterministic_algorithms_enabled(),
                       torch.utils.deterministic.fill_uninitialized_memory)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = False

    def __exit__(self, *exc: object) -> None:
        torch.use_deterministic_algorithms(self.before[0])
        torch.utils.deterministic.fill_uninitialized_memory = self.before[1]
