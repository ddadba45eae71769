r"""The fused loop: gradient descent as three tensor operations per iteration, in a CUDA graph.

With the bias as a last weight (X1 = [X, 1], theta = [w; b]) and each row signed by its label
(s_i = 1 - 2 y_i: +1 for label 0, -1 for label 1; Xs = diag(s) X1), the margin u = s z gives
both losses and their gradients without y:

    cross-entropy   L = softplus(u)            dJ/dtheta = Xs^T sigma(u) / m
    squared error   L = 1/2 sigma(u)^2         dJ/dtheta = Xs^T [sigma(u)^2 sigma(-u)] / m

(for y = 1, a - y = -sigma(-z) = -sigma(u)), so one iteration of cross-entropy is

    u = Xs theta;  theta <- theta - (alpha/m) Xs^T sigma(u)          (gemv, sigmoid, gemv)

The margins of a chunk of iterations are kept on the device and the chunk's costs computed from
them afterwards, so the loop never waits for the host. On CUDA a chunk of ``steps`` iterations is
captured once in a CUDA graph and replayed. ``FusedLoop`` is the engine of the torch solver's
"fused" and "cuda_graph" modes (``logicat.training.torch_solver``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from logicat.core.errors import ParameterError


class FusedLoop:
    """Full-batch gradient descent of logistic regression in margin form, k iterations a call.

    X (m, n) and y (m,) in {0, 1} are float tensors of one dtype; w0 (n,) and b0 the initial
    parameters; ``steps`` the iterations per chunk (and per CUDA graph). ``graph``: "off" runs
    the chunk eagerly, "on" captures it in a CUDA graph and replays it, "try" does the same but,
    if capturing fails, warns and runs eagerly. ``timings`` (a dict, or None) receives
    "prepare_s", "capture_s" and "loop_s" (measuring synchronizes the device).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, w0: np.ndarray, b0: float, loss: str,
                 dev: torch.device, *, steps: int, graph: str = "off",
                 timings: dict[str, float] | None = None) -> None:
        self.clock = Clock(dev, timings)
        m, n = X.shape
        self.m, self.n, self.loss, self.dev = m, n, loss, dev
        y = y.to(dev)
        if not bool(((y == 0) | (y == 1)).all()):
            raise ParameterError("The fused and CUDA-graph loops need labels y in {0, 1}.")
        sign = (1 - 2 * y).unsqueeze(1)  # (m, 1): s = +1 for label 0, -1 for label 1
        self.Xs = torch.empty((m, n + 1), dtype=X.dtype, device=dev)  # (m, n+1): diag(s) [X, 1]
        torch.mul(X.to(dev), sign, out=self.Xs[:, :n])
        self.Xs[:, n] = sign.squeeze(1)
        self.theta = torch.empty(n + 1, dtype=X.dtype, device=dev)  # (n+1,): [w; b]
        self.set(w0, b0)
        # One chunk of margins at a time: (k, m), at most ~2^24 numbers.
        self.k = max(1, min(int(steps), 2**24 // m))
        self.U = torch.empty((self.k, m), dtype=X.dtype, device=dev)
        self.zero = torch.zeros((), dtype=X.dtype, device=dev)
        self.lr: float | None = None
        self.graph = graph
        self.replay: Callable[[], None] | None = None
        self.clock.lap("prepare_s")

    def set(self, w: np.ndarray, b: float) -> None:
        self.theta[: self.n] = torch.as_tensor(np.asarray(w), dtype=self.theta.dtype)
        self.theta[self.n] = float(b)

    def _steps(self, steps: int, lr: float) -> None:
        step_size = -lr / self.m
        for j in range(steps):
            u = torch.mv(self.Xs, self.theta, out=self.U[j])  # (m,) margins s z, for the costs
            a = torch.sigmoid(u)  # (m,) = |a - y| for cross-entropy
            if self.loss == "squared_error":
                a = a.square_().mul_(torch.sigmoid(-u))  # sigma(u)^2 sigma(-u)
            self.theta.addmv_(self.Xs.T, a, alpha=step_size)  # theta -= alpha/m Xs^T dL/du

    def run(self, steps: int, lr: float) -> np.ndarray:
        """``steps`` (<= k) iterations at the learning rate ``lr``; their costs (steps,) float64."""
        self.clock.start()
        if steps == self.k and self.graph != "off":
            if self.replay is None or lr != self.lr:
                self._capture(lr)
            self.replay()
        else:
            self._steps(steps, lr)
        costs = self.costs(steps)
        self.clock.lap("loop_s")
        return costs

    def _capture(self, lr: float) -> None:
        theta_0 = self.theta.clone()
        self.lr = lr
        try:
            self.replay = capture(lambda k: self._steps(k, lr), self.k, self.dev)
        except RuntimeError as err:
            if self.graph == "on":
                raise
            warnings.warn(
                f"CUDA graph capture failed ({str(err).splitlines()[0]}); "
                "training without a graph.",
                RuntimeWarning,
                stacklevel=4,
            )
            self.graph = "off"
            self.replay = lambda: self._steps(self.k, lr)
        self.theta.copy_(theta_0)  # undo the warm-up's step
        self.clock.lap("capture_s")

    def costs(self, steps: int) -> np.ndarray:
        """J before each of the last ``steps`` iterations, from their margins."""
        Uc = self.U[:steps]  # (steps, m)
        if self.loss == "cross_entropy":
            losses = torch.logaddexp(Uc, self.zero)  # softplus(u), never overflowing
        else:
            losses = 0.5 * torch.sigmoid(Uc).square()
        return losses.mean(dim=1).double().cpu().numpy()

    def params(self) -> tuple[np.ndarray, np.ndarray]:
        theta = self.theta.cpu().numpy()
        return theta[: self.n].copy(), theta[self.n:].copy()


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


class Clock:
    """Wall-clock laps into ``timings`` (synchronizing CUDA), or nothing when it is None."""

    def __init__(self, dev: torch.device, timings: dict[str, float] | None) -> None:
        self.dev, self.timings = dev, timings
        self.t = self._now() if timings is not None else 0.0

    def _now(self) -> float:
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
        return time.perf_counter()

    def start(self) -> None:
        if self.timings is not None:
            self.t = self._now()

    def lap(self, name: str) -> None:
        """Add the time since the last lap (or start) to ``timings[name]``."""
        if self.timings is not None:
            t = self._now()
            self.timings[name] = self.timings.get(name, 0.0) + t - self.t
            self.t = t
