"""The fused loop: gradient descent as three tensor operations per iteration, in a CUDA graph.

With the bias as a last weight (X1 = [X, 1], theta = [w; b]) and each row signed by its label
(s_i = 1 - 2 y_i: +1 for label 0, -1 for label 1; Xs = diag(s) X1), the margin u = s z gives
both losses and their gradients without y:

    cross-entropy   L = softplus(u)            dJ/dtheta = Xs^T sigma(u) / m
    squared error   L = 1/2 sigma(u)^2         dJ/dtheta = Xs^T [sigma(u)^2 sigma(-u)] / m

(for y = 1, a - y = -sigma(-z) = -sigma(u)), so one iteration of cross-entropy is

    u = Xs theta;  theta <- theta - (alpha/m) Xs^T sigma(u)          (gemv, sigmoid, gemv)

The margins of each chunk of iterations are kept on the device and the chunk's costs computed
from them afterwards, so the loop never waits for the host. On CUDA a chunk of ``graph_steps``
iterations is captured once in a CUDA graph and replayed.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from logicat.optim import GDResult, TrainingState, _diverged
from logicat.torch_backend.model import torch_loss


def train_fused(
    X: torch.Tensor,
    y: torch.Tensor,
    w0: np.ndarray,
    b0: float,
    learning_rate: float,
    max_iter: int,
    loss: str,
    dev: torch.device,
    graph: str,
    graph_steps: int,
    divergence_patience: int,
    timings: dict[str, float] | None,
    observers: Sequence[Callable[[TrainingState], Any]] = (),
) -> GDResult:
    """Full-batch gradient descent in margin form (see the module docstring).

    X (m, n) and y (m,) in {0, 1} are float tensors of one dtype; w0 (n,) and b0 the initial
    parameters. ``graph``: "off" runs the loop eagerly, "on" captures ``graph_steps`` iterations
    in a CUDA graph and replays it, "try" does the same but, if capturing fails, warns and runs
    eagerly. ``timings`` (a dict, or None) receives "prepare_s", "capture_s" and "loop_s".
    ``observers`` are callbacks that only read the iteration and the cost (``cost_only``, see
    ``logicat.torch_backend.trainer``): they are called for every iteration of a chunk after
    the chunk has run (one host sync per chunk), with the parameters at the chunk's end.
    Returns a ``GDResult`` with costs in float64 and coef in X's dtype.
    """
    if loss not in ("cross_entropy", "squared_error"):
        torch_loss(X[:1, 0], y[:1], loss)  # raises the loss error
    clock = Clock(dev, timings)
    m, n = X.shape
    y = y.to(dev)
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("The fused and CUDA-graph loops need labels y in {0, 1}.")
    sign = (1 - 2 * y).unsqueeze(1)  # (m, 1): s = +1 for label 0, -1 for label 1
    Xs = torch.empty((m, n + 1), dtype=X.dtype, device=dev)  # (m, n+1): diag(s) [X, 1]
    torch.mul(X.to(dev), sign, out=Xs[:, :n])
    Xs[:, n] = sign.squeeze(1)
    theta = torch.empty(n + 1, dtype=X.dtype, device=dev)  # (n+1,): [w; b]
    theta[:n] = torch.as_tensor(w0, dtype=X.dtype)
    theta[n] = float(b0)
    # One chunk of margins at a time: (k, m), at most ~2^24 numbers.
    k = max(1, min(int(graph_steps), max_iter, 2**24 // m))
    U = torch.empty((k, m), dtype=X.dtype, device=dev)
    history = torch.empty(max_iter, dtype=X.dtype, device=dev)
    zero = torch.zeros((), dtype=X.dtype, device=dev)
    step_size = -learning_rate / m

    def run(steps: int) -> None:
        for j in range(steps):
            u = torch.mv(Xs, theta, out=U[j])  # (m,) margins s z, kept for the cost table
            a = torch.sigmoid(u)  # (m,) = |a - y| for cross-entropy
            if loss == "squared_error":
                a = a.square_().mul_(torch.sigmoid(-u))  # sigma(u)^2 sigma(-u)
            theta.addmv_(Xs.T, a, alpha=step_size)  # theta -= alpha/m Xs^T dL/du

    def costs_of(first: int, steps: int) -> None:
        Uc = U[:steps]  # (steps, m)
        if loss == "cross_entropy":
            losses = torch.logaddexp(Uc, zero)  # softplus(u), never overflowing
        else:
            losses = 0.5 * torch.sigmoid(Uc).square()
        history[first : first + steps] = losses.mean(dim=1)
        if observers:
            coef, b = theta[:n].cpu().numpy(), float(theta[n])
            for i, cost in enumerate(history[first : first + steps].tolist(), start=first):
                for observe in observers:
                    observe(TrainingState(i, cost, coef, b, max_iter))

    clock.lap("prepare_s")
    replay: Callable[[], None] = lambda: run(k)  # noqa: E731
    if graph != "off":
        theta_0 = theta.clone()
        try:
            replay = capture(run, k, dev)
        except RuntimeError as err:
            if graph == "on":
                raise
            warnings.warn(
                f"CUDA graph capture failed ({str(err).splitlines()[0]}); "
                "training without a graph.",
                RuntimeWarning,
                stacklevel=3,
            )
        theta.copy_(theta_0)  # undo the warm-up's step
        clock.lap("capture_s")
    full, rest = divmod(max_iter, k)
    for r in range(full):
        replay()
        costs_of(r * k, k)
    if rest:
        run(rest)
        costs_of(full * k, rest)
    clock.lap("loop_s")
    costs = history.double().cpu().numpy()
    DivergenceWatch(learning_rate, divergence_patience).check(costs)
    theta = theta.cpu().numpy()
    return GDResult(theta[:n].copy(), float(theta[n]), costs, max_iter)


def capture(run: Callable[[int], None], k: int, dev: torch.device) -> Callable[[], None]:
    """``run(k)`` captured in a CUDA graph; returns its replay. Changes the parameters (the
    warm-up runs one step for real)."""
    # Warm up on a side stream first (cuBLAS handles, the allocator), as CUDA graphs require.
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(side):
        run(1)
    torch.cuda.current_stream(dev).wait_stream(side)
    cuda_graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(cuda_graph):
        run(k)
    return cuda_graph.replay


class DivergenceWatch:
    """The NumPy loop's divergence rule: a non-finite cost, or ``patience`` rises in a row."""

    def __init__(self, learning_rate: float, patience: int) -> None:
        self.learning_rate, self.patience = learning_rate, patience
        self.previous, self.worse = math.nan, 0

    def __call__(self, i: int, cost: float) -> None:
        if not math.isfinite(cost):
            raise _diverged(i, cost, self.learning_rate, "the cost is no longer finite")
        self.worse = self.worse + 1 if i and cost > self.previous else 0
        self.previous = cost
        if self.worse >= self.patience:
            why = f"the cost grew {self.worse} times in a row"
            raise _diverged(i, cost, self.learning_rate, why)

    def check(self, costs: np.ndarray) -> None:
        for i, cost in enumerate(costs.tolist()):
            self(i, cost)


class Clock:
    """Wall-clock laps into ``timings`` (synchronizing CUDA), or nothing when it is None."""

    def __init__(self, dev: torch.device, timings: dict[str, float] | None) -> None:
        self.dev, self.timings = dev, timings
        self.t = self._now() if timings is not None else 0.0

    def _now(self) -> float:
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
        return time.perf_counter()

    def lap(self, name: str) -> None:
        if self.timings is not None:
            t = self._now()
            self.timings[name] = t - self.t
            self.t = t
