r"""How the iterations are computed: the solvers behind ``solver=``, and the rule of "auto".

- ``PrimalSolver`` ("primal"): steps on the parameters themselves, theta <- update(theta,
  dJ/dtheta), with any update rule of ``logicat.training.optimizers``, one step per batch the
  loop hands it - the whole set or mini-batches, from memory or from a file
  (``logicat.training.batches``), with any engine's objective.
- ``GramSolver`` ("gram"), a documented fast path of the loop: full-batch gradient descent in
  the span of the examples. Every gradient-descent update adds a combination of the training
  examples to w:

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

  A network's first layer is the same: W_1 = W_1^0 + X^T C with C (m, n_1), Z_1 = Z_1^0 + K C
  + b_1, so the first layer costs n_1 m^2 per step instead of 2 n_1 m n, and the small layers
  after it step as usual (the course's deep model: 0.9M multiply-adds per step instead of 103M).

``solver="auto"`` takes "gram" exactly when ``gram_obstacles`` finds nothing in the way and
``worth_it`` says it pays, "primal" otherwise (the torch engine always takes its own solver).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from logicat.nn.layers import layer
from logicat.nn.loss import Loss, mean_cost_and_dz
from logicat.nn.network import Network, param_names
from logicat.training.loop import Solver, is_cost_only

#: iterations per call of the span solver: the callbacks run between chunks, so progress is live
CHUNK = 250


class PrimalSolver(Solver):
    """Steps on the parameters with an optimizer: one step per batch the loop hands it.

    Parameters
    ----------
    params : the initial parameters, updated in place; ``names`` their names in snapshots
    optimizer : a ``logicat.training.optimizers.Optimizer``

    A batch is an objective, ``params -> (cost, gradients)``, as ``logicat.training.batches``
    cuts them (``InMemory``, ``FileRows``): the whole set (full-batch gradient descent) or a
    mini-batch of it.
    """

    def __init__(self, params: list[np.ndarray], names: Sequence[str], optimizer) -> None:
        self._params = params
        self.names = tuple(names)
        self.optimizer = optimizer

    def params(self) -> list[np.ndarray]:
        return self._params

    def epoch(self, index: int):
        # A diverging run overflows here: the loop reports the non-finite cost or parameters.
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")

    def step(self, objective, lr: float) -> float:
        cost, grads = objective(self._params)
        self.optimizer.step(self._params, grads, lr)
        return cost

    def state(self):
        tensors = {f"optimizer.{k}": v
                   for k, v in self.optimizer.state_dict(self.names).items()}
        return tensors, {"optimizer": self.optimizer.name}

    def load_state(self, tensors, meta) -> None:
        prefix = "optimizer."
        self.optimizer.load_state_dict(
            {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}, self.names)


class GramSolver(Solver):
    """Full-batch gradient descent in the span of the examples, for any network.

    The first layer's weights - w of logistic regression, W_1 of a network - only ever move by
    combinations of the examples: W_1 = W_1^0 + X^T C with C of shape (m, n_1) (for logistic
    regression, a of shape (m,)), so its pre-activations are Z_1 = Z_1^0 + K C + b_1 with
    K = X X^T, and the gradient step on W_1 is the step C <- C - alpha dJ/dZ_1: n_1 m^2
    multiply-adds per iteration instead of 2 n_1 m n. The layers after it are small and step as
    usual. X (m, n) float64 or float32 (the dtype of the returned parameters), y (m,) in {0, 1},
    params [W_1, b_1, ..., w, b] the initial parameters; the arithmetic is float64.
    """

    chunk = CHUNK

    def __init__(self, X: np.ndarray, y: np.ndarray, params: list[np.ndarray], loss: Loss,
                 activation: str = "relu") -> None:
        self.dtype = X.dtype
        self.loss, self.activation = loss, activation
        self.names = param_names(len(params) // 2)
        self.X64 = X.astype(np.float64, copy=False)  # products of float32s are exact in float64
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite cost
            self.K = self.X64 @ self.X64.T  # (m, m) the Gram matrix, one BLAS call
        self.y = y.astype(np.float64)
        self.set_params(params)
        self._last_run = (0, self.C.copy(), [p.copy() for p in self.rest], [])

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        self.W0 = np.asarray(params[0], dtype=np.float64)  # (n, n_1), or w0 (n,)
        with np.errstate(over="ignore", invalid="ignore"):
            self.Z0 = self.X64 @ self.W0  # (m, n_1) the initial weights' part of Z_1
        self.C = np.zeros_like(self.Z0)  # W_1 = W_1^0 + X^T C
        self.rest = [np.array(p, dtype=np.float64) for p in params[1:]]  # b_1, W_2, ..., w, b

    def _steps(self, C: np.ndarray, rest: list[np.ndarray], lrs: Sequence[float]) -> np.ndarray:
        """len(lrs) iterations from (C, rest), updated in place; their costs."""
        costs = np.empty(len(lrs))
        logistic = len(rest) == 1
        activation = layer(self.activation)  # g and g'(z, g(z)), as the layer computes them
        g, g_prime = activation.g, activation.slope_of
        with np.errstate(over="ignore", invalid="ignore"):
            for i, lr in enumerate(lrs):
                Z1 = self.Z0 + self.K @ C + rest[0]  # (m, n_1): no pass over X
                if logistic:  # Z1 is z itself
                    costs[i], dZ1 = mean_cost_and_dz(Z1, self.y, self.loss)  # dz holds the 1/m
                    grads = [np.array([dZ1.sum()])]
                else:
                    A1 = g(Z1)
                    costs[i], later, dA1 = Network.from_params(rest[1:], self.activation) \
                        .cost_and_gradients(A1, self.y, self.loss, input_grad=True)
                    dZ1 = dA1 * g_prime(Z1, A1)
                    grads = [dZ1.sum(axis=0), *later]
                C -= lr * dZ1  # the step on W_1, in the span
                for p, grad in zip(rest, grads, strict=True):
                    p -= lr * grad
        return costs

    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        self._last_run = (first, self.C.copy(), [p.copy() for p in self.rest], list(lrs))
        return self._steps(self.C, self.rest, lrs)

    def _after(self, n_done: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """(C, rest) after iteration n_done - 1: the last chunk redone from its start up to it."""
        first, C, rest, lrs = self._last_run
        C, rest = C.copy(), [p.copy() for p in rest]
        self._steps(C, rest, lrs[: n_done - first])
        return C, rest

    def _params_of(self, C: np.ndarray, rest: list[np.ndarray]) -> list[np.ndarray]:
        W1 = self.W0 + self.X64.T @ C  # (n, n_1), formed only when asked
        return [p.astype(self.dtype) for p in (W1, *rest)]

    def params(self) -> list[np.ndarray]:
        return self._params_of(self.C, self.rest)

    def params_after(self, n_done: int) -> list[np.ndarray]:
        return self._params_of(*self._after(n_done))

    def rewind(self, n_done: int) -> None:
        self.C, self.rest = self._after(n_done)

    def params_finite(self) -> bool:
        return all(bool(np.isfinite(p).all()) for p in (self.C, *self.rest))

    def state(self):
        """Plain gradient descent has no optimizer state (a primal solver resumes it)."""
        return {}, {"optimizer": "gd"}


def worth_it(m: int, n: int, max_iter: int, units: int = 1) -> bool:
    """True when forming K and stepping in the span is cheaper than stepping on W_1 (n, units).

    cost of the span path:  m^2 n (K, once; a GEMM, ~2x faster per multiply-add than a GEMV)
                          + max_iter m^2 units + m n units (W_1 at the end)
    cost of the primal:     max_iter 2 m n units (a GEMV for logistic regression: / 2)
    """
    primal = max_iter * 2 * m * n * units / (2 if units == 1 else 1)
    return m * m * n / 2 + max_iter * m * m * units + m * n * units < primal


def gram_obstacles(*, engine: str, optimizer: str, lr_schedule, batch_size,
                   m: int, alpha: float, weighted: bool, early_stopping: bool, resume: bool,
                   callbacks: Sequence, weight_decay: float = 0.0) -> list[str]:
    """What keeps a run from the span solver: it is exactly full-batch gradient descent at a fixed
    learning rate, unweighted and unpenalised, by the numpy engine, with callbacks that only
    read the cost (``cost_only``), neither validated nor resumed."""
    checks = {
        f"engine={engine!r} (it needs 'numpy')": engine != "numpy",
        f"optimizer={optimizer!r} (it needs 'gd')": optimizer != "gd",
        "a learning-rate schedule": lr_schedule != "constant",
        "mini-batches": batch_size is not None and batch_size < m,
        "L2 regularisation (alpha)": bool(alpha),
        "weight decay": bool(weight_decay),
        "sample or class weights": weighted,
        "early stopping": early_stopping,
        "resuming from a checkpoint": resume,
        "callbacks that read the parameters (not cost_only)": not all(
            is_cost_only(cb) for cb in callbacks),
    }
    return [what for what, present in checks.items() if present]
