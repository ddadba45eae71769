"""Training the PyTorch module: full batch, mini-batches, data-parallel, and CUDA graphs.

Three ways to run the same gradient descent, picked by ``mode``:

- ``"autograd"``: the PyTorch way. ``CatLogisticModule`` (``nn.Linear(n, 1)``), the loss from the
  logits, ``loss.backward()``, ``torch.optim.SGD``. Full batch, mini-batches from a
  ``DataLoader``, callbacks, and data parallelism across processes (``torch.distributed``).
- ``"fused"``: the hand-derived gradient as three tensor operations per iteration (gemv,
  sigmoid, gemv) with the costs kept on the device (``logicat.torch_backend.fused``).
- ``"cuda_graph"``: the fused loop, ``graph_steps`` iterations at a time, captured once in a CUDA
  graph and replayed; a 2000-iteration run is a handful of graph launches.

``"auto"`` takes ``"cuda_graph"`` on a CUDA device when no callback needs per-iteration values
(none, or only cost-only ones such as ``PrintCost`` and ``ProgressBar``, which are then called a
chunk at a time; see ``cost_only``) and training is full-batch on one process, ``"autograd"``
otherwise. Every mode returns a
``logicat.optim.GDResult`` whose ``cost_history`` is J before each iteration's update, as the
NumPy engine records it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from logicat.optim import Callback, GDResult, TrainingState
from logicat.torch_backend import distributed as dist
from logicat.torch_backend.fused import DivergenceWatch, train_fused
from logicat.torch_backend.model import CatLogisticModule, torch_loss

MODES = ("auto", "autograd", "fused", "cuda_graph")
DEVICES = ("auto", "cpu", "cuda")
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """ "auto" -> CUDA if available, else the CPU; "cuda" without CUDA is a clear error."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(
            f"The 'device' parameter must be one of {', '.join(map(repr, DEVICES))}. "
            f"Got {device!r} instead."
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"The 'device' parameter is {str(device)!r}, but this PyTorch "
            f"({torch.__version__}) sees no CUDA device. Use device='cpu' or 'auto'."
        )
    return dev


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
    callbacks: Sequence[Callback] = (),
    mode: str = "auto",
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    divergence_patience: int = 50,
    graph_steps: int = 200,
    timings: dict[str, float] | None = None,
) -> GDResult:
    """Gradient descent on logistic regression with PyTorch.

    Parameters
    ----------
    X : array or tensor of shape (m, n), float64 or float32 (the dtype of the arithmetic);
        under ``torch.distributed`` this process's shard of the rows
    y : array or tensor of shape (m,), labels 0/1
    w0 : initial weights (n,) (default zeros); b0 : initial bias
    learning_rate, max_iter, loss : as ``LogisticRegression``; with ``batch_size`` set,
        ``max_iter`` counts epochs and each cost is the epoch's mean of the batch costs
    device : "auto", "cpu", "cuda" or a torch device
    callbacks : called with a ``TrainingState`` after every iteration (True stops); in the
        fused and CUDA-graph modes only cost-only callbacks, called after each chunk
    mode : "auto", "autograd", "fused" or "cuda_graph" (see the module docstring)
    batch_size, shuffle, seed : mini-batches of this size (``None``, or >= m: full batch),
        reshuffled every epoch (if ``shuffle``) by a generator seeded with ``seed``
    graph_steps : iterations captured per CUDA graph
    timings : if a dict, filled with "prepare_s", "capture_s" and "loop_s" (cuda_graph mode;
        measuring synchronizes the device)

    Returns
    -------
    GDResult(coef (n,) ndarray of X's dtype, intercept float, cost_history (n_iter,) float64,
    n_iter)
    """
    dev = resolve_device(device)
    X = _as_tensor(X, "X")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must have shape (m, n) with m >= 1. Got shape {tuple(X.shape)} instead."
        )
    if X.dtype not in (torch.float64, torch.float32):
        raise TypeError(f"X must be float64 or float32. Got dtype {X.dtype} instead.")
    y = _as_tensor(y, "y").to(X.dtype)
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have shape ({X.shape[0]},). Got shape {tuple(y.shape)} instead.")
    n = X.shape[1]
    w0 = np.zeros(n) if w0 is None else np.asarray(w0)
    _check_mode(mode)
    callbacks = list(callbacks or ())
    distributed = dist.is_distributed()
    if batch_size is not None and _check_batch_size(batch_size) >= X.shape[0] and not distributed:
        batch_size = None  # one batch of all m examples is full-batch gradient descent
    chosen = mode == "auto"
    all_cost_only = all(cost_only(cb) for cb in callbacks)  # none need per-iteration values
    if mode == "auto":
        simple = all_cost_only and batch_size is None and not distributed
        mode = "cuda_graph" if dev.type == "cuda" and simple else "autograd"
    if mode in ("fused", "cuda_graph"):
        unsupported = {
            "callbacks other than cost-only ones": not all_cost_only,
            "mini-batches": batch_size is not None,
            "torch.distributed": distributed,
        }
        for what, used in unsupported.items():
            if used:
                raise ValueError(f"mode={mode!r} does not support {what}; use mode='autograd'.")
        if mode == "cuda_graph" and dev.type != "cuda":
            raise ValueError(f"mode='cuda_graph' needs a CUDA device. Got device {str(dev)!r}.")
        return train_fused(
            X,
            y,
            w0,
            b0,
            learning_rate,
            max_iter,
            loss,
            dev,
            "off" if mode == "fused" else "try" if chosen else "on",
            graph_steps,
            divergence_patience,
            timings,
            callbacks,
        )
    model = CatLogisticModule(n, X.dtype, w0, b0, device=dev)
    if batch_size is None:
        Xd, yd = X.to(dev), y.to(dev)
        m_total = dist.all_reduce_count(X.shape[0], dev) if distributed else X.shape[0]
        return fit_module(
            model,
            lambda: [(Xd, yd)],
            m_total,
            learning_rate=learning_rate,
            max_iter=max_iter,
            loss=loss,
            callbacks=callbacks,
            divergence_patience=divergence_patience,
            full_batch=True,
        )
    if distributed:
        raise ValueError("Mini-batches under torch.distributed are not supported; use full batch.")
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(
        TensorDataset(X, y),
        batch_size=_check_batch_size(batch_size),
        shuffle=bool(shuffle),
        generator=torch.Generator().manual_seed(0 if seed is None else int(seed)),
    )
    return fit_module(
        model,
        lambda: loader,
        X.shape[0],
        learning_rate=learning_rate,
        max_iter=max_iter,
        loss=loss,
        callbacks=callbacks,
        divergence_patience=divergence_patience,
    )


def fit_module(
    model: CatLogisticModule,
    batches: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]],
    m_total: int,
    *,
    learning_rate: float,
    max_iter: int,
    loss: str,
    callbacks: Sequence[Callback] = (),
    divergence_patience: int = 50,
    full_batch: bool = False,
) -> GDResult:
    """The PyTorch training loop: forward, loss, ``backward()``, all-reduce, ``SGD.step()``.

    ``batches()`` gives one epoch's (X, y) batches: uint8 pixels become X's float dtype / 255 at
    batch time. With ``full_batch`` each batch's loss is divided by ``m_total`` (all processes'
    examples), and under ``torch.distributed`` the gradients are summed across processes, so
    each process's contribution is weighted by its number of examples and the result equals
    single-process training on all the data. Costs stay on the device unless a callback needs
    them.
    """
    param = next(model.parameters())
    dev, dtype = param.device, param.dtype
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    distributed = full_batch and dist.is_distributed()
    history = torch.empty(max_iter, dtype=dtype, device=dev)
    watch = DivergenceWatch(learning_rate, divergence_patience)
    inline = bool(callbacks) or distributed  # the host sees each cost anyway
    stop = torch.zeros(1, dtype=dtype, device=dev)
    n_iter = max_iter
    for i in range(max_iter):
        epoch_cost = torch.zeros((), dtype=dtype, device=dev)
        for xb, yb in batches():
            xb, yb = _features(xb, dtype, dev), yb.to(device=dev, dtype=dtype)
            optimizer.zero_grad(set_to_none=False)
            J = torch_loss(model(xb), yb, loss, m_total if full_batch else None)
            J.backward()
            if distributed:
                J = _all_reduce_step(model, J, stop)
            epoch_cost += J.detach() if full_batch else J.detach() * (xb.shape[0] / m_total)
            if distributed and stop.item() > 0:
                break
            optimizer.step()
        if distributed and stop.item() > 0:  # a callback on some process asked to stop
            n_iter = i
            break
        history[i] = epoch_cost
        if not inline:
            continue
        cost = float(epoch_cost)
        watch(i, cost)
        if callbacks:
            coef = model.coef if dev.type == "cpu" else model.coef.cpu()
            state = TrainingState(i, cost, coef.numpy(), float(model.intercept), max_iter)
            if any([cb(state) for cb in callbacks]):
                if not distributed:
                    n_iter = i + 1
                    break
                stop.fill_(1.0)  # the next all-reduce tells every process
    costs = history[:n_iter].double().cpu().numpy()
    if not inline:
        watch.check(costs)
    coef = model.coef.cpu().numpy().copy()
    stopped = "max_iter" if n_iter == max_iter else "callback"
    return GDResult(coef, float(model.intercept), costs, n_iter, stopped)


def _all_reduce_step(model: CatLogisticModule, J: torch.Tensor, stop: torch.Tensor) -> torch.Tensor:
    """Sum (dw, db, J, stop) over all processes in one all-reduce; returns the global J."""
    w, b = model.linear.weight, model.linear.bias
    flat = torch.cat([w.grad.view(-1), b.grad.view(-1), J.detach().view(1), stop])
    dist.all_reduce_sum_(flat)
    n = w.numel()
    w.grad.copy_(flat[:n].view_as(w))
    b.grad.copy_(flat[n : n + 1])
    stop.copy_(flat[-1:])
    return flat[-2]


def cost_only(callback: Any) -> bool:
    """True for a callback that only reads ``iteration``, ``cost`` and ``max_iter`` and never
    stops training: it can be called after a chunk of iterations ran on the device. Callbacks
    say so with a true ``cost_only`` attribute; logicat's ``PrintCost`` and ``ProgressBar`` are.
    """
    kind = type(callback)
    known = kind.__module__ == "logicat.callbacks" and kind.__name__ in ("PrintCost", "ProgressBar")
    return known or getattr(callback, "cost_only", False) is True


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
        raise TypeError(f"{name} must be a numeric array. Got dtype object instead.")
    return torch.from_numpy(np.ascontiguousarray(a))


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(
            f"The 'mode' parameter must be one of {', '.join(map(repr, MODES))}. "
            f"Got {mode!r} instead."
        )


def _check_batch_size(batch_size: Any) -> int:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(
            f"The 'batch_size' parameter must be an int >= 1 or None. Got {batch_size!r} instead."
        )
    return int(batch_size)


# ----------------------------------------------------------------- entry points for logicat
def torch_trainer(estimator: Any, X: np.ndarray, y01: np.ndarray, w0: np.ndarray, b0: float):
    """``TRAINERS["torch"]``: train ``LogisticRegression(engine="torch")`` with its settings.

    Reads ``device``, ``batch_size``, ``shuffle`` and ``random_state`` (the shuffling seed, when
    an int); ``torch_mode``, if set on the estimator, picks the mode.
    """
    if dist.is_distributed() and getattr(estimator, "standardize", False):
        raise ValueError(
            "standardize=True is not supported in data-parallel training (each process would "
            "standardize with its own shard's statistics)."
        )
    seed = estimator.random_state if isinstance(estimator.random_state, int) else None
    return train_torch(
        X,
        y01,
        w0,
        b0,
        learning_rate=float(estimator.learning_rate),
        max_iter=int(estimator.max_iter),
        loss=estimator.loss,
        device=estimator.device,
        callbacks=list(estimator.callbacks or ()),
        mode=getattr(estimator, "torch_mode", "auto"),
        batch_size=getattr(estimator, "batch_size", None),
        shuffle=getattr(estimator, "shuffle", True),
        seed=seed,
    )


def fit_dataset(
    dataset: Any,
    *,
    batch_size: int = 64,
    seed: int = 0,
    num_workers: int = 0,
    learning_rate: float = 0.005,
    max_iter: int = 100,
    loss: str = "cross_entropy",
    dtype: str = "float64",
    device: str = "auto",
    callbacks: Sequence[Callback] | None = None,
) -> Any:
    """Train by mini-batch SGD on a ``torch.utils.data.Dataset`` of ``(pixels uint8, label)``.

    ``H5CatDataset`` and ``ImageFolderDataset`` read images lazily (in ``num_workers`` worker
    processes if > 0); pixels become floats at batch time. ``max_iter`` counts epochs; the
    batches are shuffled every epoch by a generator seeded with ``seed``.

    Returns a fitted ``LogisticRegression`` with ``classes_ = [0, 1]`` (the dataset's labels;
    their names, ``dataset.classes``, go to ``metadata_["class_names"]`` and so into saved model
    files) that predicts on features as usual.
    """
    from torch.utils.data import DataLoader

    from logicat.estimator import LogisticRegression

    if dtype not in _DTYPES:
        raise ValueError(
            f"The 'dtype' parameter must be one of 'float64', 'float32'. Got {dtype!r} instead."
        )
    dev = resolve_device(device)
    loader = DataLoader(
        dataset,
        batch_size=_check_batch_size(batch_size),
        shuffle=True,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(int(seed)),
        persistent_workers=num_workers > 0,
    )
    model = CatLogisticModule(dataset.n_features, _DTYPES[dtype], device=dev)
    result = fit_module(
        model,
        lambda: loader,
        len(dataset),
        learning_rate=learning_rate,
        max_iter=max_iter,
        loss=loss,
        callbacks=list(callbacks or ()),
    )
    clf = LogisticRegression(
        learning_rate=learning_rate,
        max_iter=max_iter,
        loss=loss,
        dtype=dtype,
        engine="torch",
        device=device,
    )
    clf.coef_ = result.coef
    clf.intercept_ = result.intercept
    clf.cost_history_ = result.cost_history
    clf.n_iter_ = result.n_iter
    clf.classes_ = np.array([0, 1])
    clf.n_features_in_ = dataset.n_features
    names = [str(c) for c in dataset.classes]
    clf.metadata_ = {"class_names": names, "positive_class": names[1]}
    return clf
