"""PyTorch computes and steps: the torch engine as a solver of the one training loop.

The loop (``logicat.training.loop``) keeps the books - epochs, rates, costs, divergence, tol,
callbacks, the run's generator - and this solver computes, in one of three modes:

- ``"autograd"``: the PyTorch way, one ``step(batch, lr)`` per batch the loop hands it.
  ``dense_net`` (the layers as ``nn.Linear`` modules), the loss from the logits,
  ``loss.backward()``, a ``torch.optim`` optimizer (SGD, with momentum or Nesterov, Adam,
  AdamW). Full batch, or the mini-batches of PyTorch's ``DataLoader`` (``TensorBatches``),
  shuffled by the loop's generator so that a checkpoint resumes them exactly; and data
  parallelism across processes (``torch.distributed``: one all-reduce of the summed gradients
  per step).
- ``"fused"`` (a fast path of the loop): logistic regression's hand-derived gradient as three
  tensor operations per iteration (gemv, sigmoid, gemv) with the costs kept on the device
  (``fused.FusedLoop``), a chunk of ``graph_steps`` iterations per call.
- ``"cuda_graph"``: the fused loop with each chunk captured once in a CUDA graph and replayed; a
  2000-iteration run is a handful of graph launches.

``"auto"`` takes ``"cuda_graph"`` on a CUDA device for plain full-batch gradient descent of
logistic regression on one process with cost-only callbacks (``cost_only_callbacks``), and
``"autograd"`` otherwise. The costs are J before each iteration's update, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from logicat.core.errors import ParameterError
from logicat.core.validation import Interval, Options, check_param
from logicat.engines.torch import distributed as dist
from logicat.engines.torch.fused import FusedLoop
from logicat.engines.torch.model import dense_net, flat_params, set_flat_params, torch_loss
from logicat.nn.network import param_names
from logicat.training.loop import FitResult, Solver, Trainer, is_cost_only
from logicat.training.optimizers import torch_optimizer

MODES = ("auto", "autograd", "fused", "cuda_graph")
#: ``torch.optim``'s per-tensor state -> the name logicat's NumPy rule keeps it under
#: what ``torch.optim`` keeps per tensor, as every checkpoint names it (``optimizer.<name>.<key>``)
_MOMENTS = ("momentum_buffer", "exp_avg", "exp_avg_sq")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """ "auto" -> CUDA if available, else the CPU; "cuda" without CUDA is a clear error."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ParameterError(
            f"The 'device' parameter must be one of {', '.join(map(repr, DEVICES))}. "
            f"Got {device!r} instead."
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(
            f"The 'device' parameter is {str(device)!r}, but this PyTorch "
            f"({torch.__version__}) sees no CUDA device. Use device='cpu' or 'auto'."
        )
    return dev


class TorchSolver(Solver):
    """Iterations by PyTorch on the rows of X, or on a ``torch.utils.data.Dataset``.

    Parameters
    ----------
    X : array or tensor (m, n), float64 or float32 (the dtype of the arithmetic); under
        ``torch.distributed`` this process's shard of the rows. Or None with ``dataset``.
    y : (m,) labels 0/1
    params : the initial parameters [W_1, b_1, ..., w, b] (NumPy)
    loss, optimizer, momentum, betas, epsilon : as ``LogisticRegression``
    alpha : L2 strength: alpha / (2m) times the squared norm of the weights is added to J
    batch_size, shuffle, seed : mini-batches of this size (None, or >= m: full batch),
        reshuffled every epoch (if ``shuffle``) by a generator seeded with ``seed``
    dataset : a Dataset of (uint8 pixels (n,), label) items (``H5CatDataset``,
        ``ImageFolderDataset``) instead of X, y; pixels become dtype / 255 at batch time
    mode : see the module docstring; ``graph_steps`` iterations per fused chunk / CUDA graph
    cost_only_callbacks, constant_lr : what the loop will ask of it ("auto" needs both)
    timings : with the fused modes, filled with "prepare_s", "capture_s" and "loop_s"
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        params: Sequence[np.ndarray],
        *,
        loss: str = "cross_entropy",
        activation: str = "relu",
        device: str | torch.device | None = "auto",
        optimizer: str = "gd",
        momentum: float = 0.9,
        betas: tuple[float, float] = (0.9, 0.999),
        epsilon: float = 1e-8,
        alpha: float = 0.0,
        weight_decay: float = 0.0,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        dataset: Any = None,
        dtype: str | None = None,
        num_workers: int = 0,
        mode: str = "auto",
        graph_steps: int = 200,
        cost_only_callbacks: bool = True,
        constant_lr: bool = True,
        timings: dict[str, float] | None = None,
    ) -> None:
        check_param("mode", mode, [Options(MODES)])
        check_param("batch_size", batch_size, [Interval(int, 1), None])
        self.optimizer_name = optimizer
        self.dev = dev = resolve_device(device)
        self.loss, self.alpha = loss, alpha
        self.names = param_names(len(params) // 2)
        if dataset is None:
            X, y = _as_tensor(X, "X"), _as_tensor(y, "y")
            if X.ndim != 2 or X.shape[0] == 0:
                raise ParameterError(
                    f"X must have shape (m, n) with m >= 1. Got shape {tuple(X.shape)} instead.")
            if X.dtype not in (torch.float64, torch.float32):
                raise ParameterError(f"X must be float64 or float32. Got dtype {X.dtype} instead.")
            y = y.to(X.dtype)
            if y.shape != X.shape[:1]:
                raise ParameterError(
                    f"y must have shape ({X.shape[0]},). Got shape {tuple(y.shape)} instead.")
            self.dtype, m = X.dtype, X.shape[0]
        else:
            self.dtype, m = DTYPES[dtype or "float64"], len(dataset)
        self.distributed = dist.is_distributed()
        self.m_total = dist.all_reduce_count(m, dev) if self.distributed else m
        if batch_size is not None and batch_size >= m and not self.distributed and dataset is None:
            batch_size = None  # one batch of all m examples is full-batch gradient descent
        if self.distributed and batch_size is not None:
            raise ParameterError(
                "Mini-batches under torch.distributed are not supported; use full batch.")
        self.full_batch = batch_size is None
        plain = (optimizer == "gd" and not alpha and not weight_decay and len(params) == 2
                 and constant_lr and self.full_batch and not self.distributed
                 and dataset is None)
        if mode == "auto":
            mode = "cuda_graph" if dev.type == "cuda" and plain and cost_only_callbacks else (
                "autograd")
        self.mode = mode
        if mode in ("fused", "cuda_graph"):
            needs = {"callbacks other than cost-only ones": not cost_only_callbacks,
                     "mini-batches": not self.full_batch,
                     "torch.distributed": self.distributed,
                     "anything but plain gradient descent of logistic regression": not plain}
            for what, used in needs.items():
                if used:
                    raise ParameterError(
                        f"mode={mode!r} does not support {what}; use mode='autograd'.")
            if mode == "cuda_graph" and dev.type != "cuda":
                raise ParameterError(
                    f"mode='cuda_graph' needs a CUDA device. Got device {str(dev)!r}.")
            graph = "off" if mode == "fused" else ("on" if mode == "cuda_graph" else "try")
            self.fused = FusedLoop(X, y, params[0], float(params[1][0]), loss, dev,
                                   steps=graph_steps, graph=graph, timings=timings)
            self.chunk = self.fused.k
            self._last = None
            self.batches = self.draws = None  # a fast path: the loop hands it no batches
            return
        self.chunk = 1
        self.model = dense_net(params, activation, self.dtype, dev)
        params = list(self.model.parameters())  # [W_1, b_1, W_2, ...]: the weights decay
        self.optimizer = torch_optimizer(optimizer, [
            {"params": params[0::2], "weight_decay": weight_decay},
            {"params": params[1::2], "weight_decay": 0.0}], 0.0, momentum, betas, epsilon)
        #: the batches the loop hands to ``step``, shuffled by ``draws`` (the run's generator)
        self.batches = TensorBatches(X, y, dataset, batch_size, shuffle, num_workers, dev)
        self.draws = torch.Generator().manual_seed(0 if seed is None else int(seed))

    # ------------------------------------------------------------------ iterations
    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        """The fused modes' chunk of full-batch iterations (a fast path of the loop)."""
        if len(set(lrs)) > 1:
            raise ParameterError(f"mode={self.mode!r} needs a constant learning rate.")
        self._last = (first, self.fused.theta.clone(), lrs[0])
        return self.fused.run(len(lrs), lrs[0])

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], lr: float) -> torch.Tensor:
        """One ``torch.optim`` step on a batch (pixels or features, labels); its J, on the
        device (the loop takes it to the host once an epoch)."""
        xb, yb = batch
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        xb, yb = _features(xb, self.dtype, self.dev), yb.to(device=self.dev, dtype=self.dtype)
        self.optimizer.zero_grad(set_to_none=False)
        J = torch_loss(self.model(xb), yb, self.loss, self.m_total if self.full_batch else None)
        if self.alpha:
            k = self.alpha / self.m_total
            J = J + 0.5 * k * sum((W * W).sum() for W in self.model.weights())
        J.backward()
        if self.distributed:
            J = self._all_reduce(J)
        self.optimizer.step()
        return J.detach()

    def _all_reduce(self, J: torch.Tensor) -> torch.Tensor:
        """Sum every gradient and J over all processes in one all-reduce; the global J."""
        return dist.all_reduce_gradients(self.model.parameters(), J)

    def sync_stop(self, stop: bool) -> bool:
        """A callback on one process (rank 0 prints) stopping training stops every process."""
        return dist.any_process(stop, self.dev) if self.distributed else stop

    # ------------------------------------------------------------------ parameters
    def params(self) -> list[np.ndarray]:
        if self.mode in ("fused", "cuda_graph"):
            return list(self.fused.params())
        return flat_params(self.model)

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        if self.mode in ("fused", "cuda_graph"):
            self.fused.set(params[0], float(params[1][0]))
        else:
            set_flat_params(self.model, params)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The ``torch.optim`` optimizer's state in the one layout of every checkpoint
        (``optimizer.<name>.<key>``, ``optimizer.step``: what ``logicat.training.optimizers``
        keeps too) and the model files' layouts of the tensors, so a checkpoint holds one format
        whichever engine wrote it. The fused modes run plain gradient descent: no state."""
        if self.mode in ("fused", "cuda_graph"):
            return {}, {"optimizer": "gd"}
        tensors: dict[str, np.ndarray] = {}
        for name in self.names:
            kept = self.optimizer.state.get(self.model.tensor(name), {})
            for key in _MOMENTS:
                if kept.get(key) is not None:
                    tensors[f"optimizer.{name}.{key}"] = self.model.file_layout(name, kept[key])
            if "step" in kept:
                tensors["optimizer.step"] = np.array([int(kept["step"])], np.int64)
        return tensors, {"optimizer": self.optimizer_name}

    def load_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        if self.mode in ("fused", "cuda_graph"):
            return
        for name in self.names:
            p = self.model.tensor(name)
            kept = {key: self.model.module_layout(name, tensors[f"optimizer.{name}.{key}"]).to(p)
                    for key in _MOMENTS if f"optimizer.{name}.{key}" in tensors}
            if kept and "optimizer.step" in tensors:
                kept["step"] = torch.tensor(float(tensors["optimizer.step"][0]))
            if kept:
                self.optimizer.state[p] = kept

    def params_finite(self) -> bool:
        if self.mode in ("fused", "cuda_graph"):
            return bool(torch.isfinite(self.fused.theta).all())
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    def _after(self, n_done: int) -> torch.Tensor:
        """theta after iteration n_done - 1: the last chunk redone from its start up to it."""
        first, theta_start, lr = self._last
        saved = self.fused.theta.clone()
        self.fused.theta.copy_(theta_start)
        self.fused._steps(n_done - first, lr)
        after = self.fused.theta.clone()
        self.fused.theta.copy_(saved)
        return after

    def params_after(self, n_done: int) -> list[np.ndarray]:
        if self.mode not in ("fused", "cuda_graph"):
            return self.params()
        theta = self._after(n_done).cpu().numpy()
        return [theta[:-1].copy(), theta[-1:].copy()]

    def rewind(self, n_done: int) -> None:
        if self.mode in ("fused", "cuda_graph"):
            self.fused.theta.copy_(self._after(n_done))


class TensorBatches:
    """The torch engine's batches: the whole set (full batch), or the mini-batches PyTorch's
    ``DataLoader`` cuts from X, y (or from a ``Dataset``), shuffled by the loop's generator
    (the ``draws`` of each epoch: the one a checkpoint keeps)."""

    def __init__(self, X, y, dataset, batch_size: int | None, shuffle: bool,
                 num_workers: int, dev: torch.device) -> None:
        self.m = len(dataset) if dataset is not None else int(X.shape[0])
        if batch_size is None and dataset is not None:  # full batch: one of all its items
            batch_size, shuffle = self.m, False
        if batch_size is None:
            self.whole = [(X.to(dev), y.to(dev))]
            return
        self.whole = None
        self._loader_of = lambda draws: _data_loader(X, y, dataset, batch_size, shuffle,
                                                     num_workers, draws)
        self._loader = None

    def epoch(self, draws: torch.Generator):
        if self.whole is not None:
            yield self.whole[0], self.m
            return
        if self._loader is None:  # one loader for the run: its workers persist
            self._loader = self._loader_of(draws)
        for xb, yb in self._loader:
            yield (xb, yb), int(xb.shape[0])


def _data_loader(X, y, dataset, batch_size: int, shuffle: bool, num_workers: int,
                 draws: torch.Generator):
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(dataset if dataset is not None else TensorDataset(X, y),
                      batch_size=batch_size, shuffle=bool(shuffle), num_workers=num_workers,
                      generator=draws, persistent_workers=num_workers > 0)


def _features(xb: torch.Tensor, dtype: torch.dtype, dev: torch.device) -> torch.Tensor:
    """A batch as features: uint8 pixels -> dtype / 255 (as ``images_to_features``), flattened."""
    xb = xb.to(dev)
    if not xb.is_floating_point():
        xb = xb.reshape(xb.shape[0], -1).to(dtype).div_(255.0)
    return xb.to(dtype)


def _as_tensor(a: Any, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a
    a = np.asarray(a)
    if a.dtype == object:
        raise ParameterError(f"{name} must be a numeric array. Got dtype object instead.")
    return torch.from_numpy(np.ascontiguousarray(a))


# ----------------------------------------------------------------- the same, as functions
def train_torch(
    X: Any,
    y: Any,
    w0: Any = None,
    b0: float = 0.0,
    *,
    learning_rate: float = 0.005,
    max_iter: int = 2000,
    loss: str = "cross_entropy",
    device: str | torch.device | None = "auto",
    callbacks: Sequence = (),
    mode: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    graph_steps: int = 200,
    timings: dict[str, float] | None = None,
) -> FitResult:
    """Gradient descent on logistic regression with PyTorch, through the one training loop.

    X (m, n) float64 or float32, y (m,) labels 0/1, w0 (n,) (default zeros) and b0 the initial
    parameters; the rest as ``TorchSolver``. With ``batch_size``, ``max_iter`` counts epochs and
    each cost is the epoch's mean of the batch costs. Returns a ``FitResult`` (``coef`` (n,) in
    X's dtype, ``intercept``, ``cost_history`` (n_iter,) float64, ``n_iter``).
    """
    X = _as_tensor(X, "X")
    n = X.shape[1] if X.ndim == 2 else 0
    dtype = np.float32 if X.dtype == torch.float32 else np.float64
    w = np.zeros(n, dtype) if w0 is None else np.asarray(w0, dtype)
    callbacks = list(callbacks or ())
    solver = TorchSolver(
        X, y, [w, np.array([b0], dtype)], loss=loss, device=device, mode=mode,
        batch_size=batch_size, shuffle=shuffle, seed=seed, graph_steps=graph_steps,
        cost_only_callbacks=all(is_cost_only(cb) for cb in callbacks), timings=timings,
    )
    return Trainer.of({"max_iter": max_iter, "learning_rate": learning_rate},
                      callbacks).run(solver, data=solver.batches, draws=solver.draws)
