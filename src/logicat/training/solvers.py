r"""How the iterations are computed: the solvers behind ``solver=``, and the rule of "auto".

- ``PrimalSolver`` ("primal"): steps on the parameters themselves, theta <- update(theta,
  dJ/dtheta), with any update rule of ``logicat.training.optimizers``, full batch or
  mini-batches, from memory or from a file (``logicat.training.batches``), with any engine's
  objective. One iteration per call: the loop sees the parameters after every epoch.
- ``GramSolver`` ("gram"): full-batch gradient descent in the span of the examples. Every
  gradient-descent update adds a combination of the training examples to w:

      dJ/dw = X^T dz / m    so    w_t = w_0 + X^T a_t,  a_t in R^m,  a_{t+1} = a_t - alpha dz_t / m

  and the logits need w only through X w:

      z_t = X w_t + b_t = X w_0 + K a_t + b_t,        K = X X^T   (m x m, the Gram matrix)

  So the same iterates are computed on a (m = 209 numbers) instead of w (n = 12288): after K is
  formed once (m^2 n multiply-adds, one BLAS call, the price of ~m/2 ordinary iterations), each
  step costs m^2 = 44k multiply-adds instead of 2 m n = 5.1M and no longer reads X. w is formed
  once at the end, w = w_0 + X^T a. This is the representer theorem at work, the reason kernel
  methods exist; in exact arithmetic the iterates are those of the primal solver, in floating
  point the cost histories agree to ~1e-15 in float64 (tests check 1e-12 over the 2000
  iterations of the lesson's run). The m x m arithmetic is float64 even for float32 features:
  it costs nothing at this size, and a float32 sum of 12288 products would lose ~4 digits of K.
  It runs ``CHUNK`` iterations per call, so the loop's callbacks must be cost-only; stopping
  inside a chunk (``tol``, a callback) redoes the chunk up to that iteration.

``solver="auto"`` takes "gram" exactly when ``gram_obstacles`` finds nothing in the way and
``worth_it`` says it pays, "primal" otherwise (the torch engine always takes its own solver).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from logicat.loss import Loss, mean_cost_and_dz
from logicat.training.loop import Solver, is_cost_only

SOLVERS = ("auto", "primal", "gram")
#: iterations per call of the span solver: the callbacks run between chunks, so progress is live
CHUNK = 250


class PrimalSolver(Solver):
    """Steps on the parameters with an optimizer, full batch or in mini-batches.

    Parameters
    ----------
    data : ``InMemory`` or ``FileRows`` (``logicat.training.batches``): its ``full()`` and
        ``batches()`` give the objectives
    params : the initial parameters, updated in place; ``names`` their names in snapshots
    optimizer : a ``logicat.training.optimizers.Optimizer``
    batch_size : examples per mini-batch; None (or >= m) is full-batch gradient descent. An
        epoch's cost is J itself in full-batch mode (before the update, as the lesson records
        it) and the size-weighted mean of the batch costs otherwise.
    shuffle : reshuffle the examples every epoch (mini-batches only)
    rng : numpy Generator of the shuffling (its state is part of the snapshot)
    """

    def __init__(self, data, params: list[np.ndarray], names: Sequence[str], optimizer, *,
                 batch_size: int | None = None, shuffle: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        self.data = data
        self._params = params
        self.names = tuple(names)
        self.optimizer = optimizer
        self.batch_size = None if batch_size is None or batch_size >= data.m else batch_size
        self.shuffle = shuffle
        self.rng = rng if rng is not None else np.random.default_rng()

    def params(self) -> list[np.ndarray]:
        return self._params

    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        costs = np.empty(len(lrs))
        # A diverging run overflows here: the loop reports the non-finite cost or parameters.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for j, lr in enumerate(lrs):
                costs[j] = self._epoch(lr)
        return costs

    def _epoch(self, lr: float) -> float:
        if self.batch_size is None:
            return self._step(self.data.full(), lr)
        total = 0.0
        for objective, k in self.data.batches(self.rng, self.batch_size, self.shuffle):
            total += self._step(objective, lr) * k
        return total / self.data.m

    def _step(self, objective, lr: float) -> float:
        cost, grads = objective(self._params)
        self.optimizer.step(self._params, grads, lr)
        return cost

    def state(self):
        tensors = {f"optimizer.{k}": v for k, v in self.optimizer.state_dict().items()}
        return tensors, {"optimizer": self.optimizer.name,
                         "rng_state": self.rng.bit_generator.state}

    def load_state(self, tensors, meta) -> None:
        prefix = "optimizer."
        self.optimizer.load_state_dict(
            {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        if "rng_state" in meta:  # a span-solver checkpoint has none: full batch never shuffles
            self.rng.bit_generator.state = meta["rng_state"]


class GramSolver(Solver):
    """Full-batch gradient descent of logistic regression in the span of the examples.

    X (m, n) float64 or float32 (the dtype of the returned weights), y (m,) in {0, 1},
    params [w0 (n,), b0 (1,)] the initial parameters (see the module docstring).
    """

    names = ("coef", "intercept")
    chunk = CHUNK

    def __init__(self, X: np.ndarray, y: np.ndarray, params: list[np.ndarray], loss: Loss
                 ) -> None:
        self.dtype = X.dtype
        self.loss = loss
        self.X64 = X.astype(np.float64, copy=False)  # products of float32s are exact in float64
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite cost
            self.K = self.X64 @ self.X64.T  # (m, m) the Gram matrix, one BLAS call
        self.y = y.astype(np.float64)
        self.set_params(params)
        self._last_run = (0, self.a.copy(), self.b, [])

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        w0, b0 = params
        self.w0 = np.asarray(w0, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            self.z0 = self.X64 @ self.w0  # (m,) the initial weights' part of every logit
        self.a = np.zeros(self.X64.shape[0])  # (m,) w = w0 + X^T a
        self.b = float(np.asarray(b0).reshape(-1)[0])

    def _steps(self, a: np.ndarray, b: float, lrs: Sequence[float]) -> tuple[np.ndarray, float]:
        """len(lrs) iterations from (a, b); a is updated in place; returns (costs, final b)."""
        costs = np.empty(len(lrs))
        with np.errstate(over="ignore", invalid="ignore"):
            for i, lr in enumerate(lrs):
                z = self.z0 + self.K @ a + b  # (m,) the logits, without touching X
                costs[i], dz = mean_cost_and_dz(z, self.y, self.loss)  # dz holds the 1/m
                a -= lr * dz
                b -= lr * float(dz.sum())
        return costs, b

    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        self._last_run = (first, self.a.copy(), self.b, list(lrs))
        costs, self.b = self._steps(self.a, self.b, lrs)
        return costs

    def _after(self, n_done: int) -> tuple[np.ndarray, float]:
        """(a, b) after iteration n_done - 1: the last chunk redone from its start up to it."""
        first, a, b, lrs = self._last_run
        a = a.copy()
        _, b = self._steps(a, b, lrs[: n_done - first])
        return a, b

    def _params_of(self, a: np.ndarray, b: float) -> list[np.ndarray]:
        w = (self.w0 + self.X64.T @ a).astype(self.dtype)  # (n,), formed only when asked
        return [w, np.array([b], dtype=self.dtype)]

    def params(self) -> list[np.ndarray]:
        return self._params_of(self.a, self.b)

    def params_after(self, n_done: int) -> list[np.ndarray]:
        return self._params_of(*self._after(n_done))

    def rewind(self, n_done: int) -> None:
        self.a, self.b = self._after(n_done)

    def params_finite(self) -> bool:
        return bool(np.isfinite(self.a).all()) and np.isfinite(self.b)

    def state(self):
        """Plain gradient descent has no optimizer state (a primal solver resumes it)."""
        return {}, {"optimizer": "gd"}


def worth_it(m: int, n: int, max_iter: int) -> bool:
    """True when forming K and stepping on a is cheaper than stepping on w.

    cost of the span path:  m^2 n (K, once; a GEMM, ~2x faster per multiply-add than a GEMV)
                          + max_iter m^2 + m n (w at the end)
    cost of the primal:     max_iter 2 m n
    """
    return m * m * n / 2 + max_iter * m * m + m * n < max_iter * 2 * m * n / 2


def gram_obstacles(*, engine: str, n_layers: int, optimizer: str, lr_schedule, batch_size,
                   m: int, alpha: float, weighted: bool, early_stopping: bool, resume: bool,
                   callbacks: Sequence) -> list[str]:
    """What keeps a run from the span solver: it is exactly full-batch gradient descent at a fixed
    learning rate on logistic regression, unweighted and unpenalised, by the numpy engine, with
    callbacks that only read the cost (``cost_only``), neither validated nor resumed."""
    checks = {
        f"engine={engine!r} (it needs 'numpy')": engine != "numpy",
        "hidden layers": n_layers != 1,
        f"optimizer={optimizer!r} (it needs 'gd')": optimizer != "gd",
        "a learning-rate schedule": lr_schedule != "constant",
        "mini-batches": batch_size is not None and batch_size < m,
        "L2 regularisation (alpha)": bool(alpha),
        "sample or class weights": weighted,
        "early stopping": early_stopping,
        "resuming from a checkpoint": resume,
        "callbacks that read the parameters (not cost_only)": not all(
            is_cost_only(cb) for cb in callbacks),
    }
    return [what for what, present in checks.items() if present]
