"""Who computes the cost and its gradients: the engines behind ``engine=``.

An objective maps the parameters [W_1, b_1, ..., w, b] (see ``logicat.nn.network``; [w, b] for
logistic regression) to ``(cost, [gradient of each parameter])``. Which engine computes it is not
the solver's business:

- "numpy": the hand-derived backward pass of ``logicat.nn.network`` (for logistic regression
  without sample weights, the fused one-pass kernel of ``logicat.engines.numba`` when numba is
  installed: the same numbers to ~1e-15);
- "autograd": the forward pass written as a graph of ``logicat.engines.autograd`` ops
  (``logicat.engines.autograd.graphs.network_cost``); ``backward()`` finds the gradients;
  ``static=True`` captures that graph once with placeholders and feeds it at every call;
- "torch": PyTorch computes *and* steps (``torch.optim``), so it is a solver of its own
  (``logicat.training.torch_solver``), not an objective.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from logicat.core.validation import Options, check_param
from logicat.nn.hyperparameters import ENGINES
from logicat.nn.loss import Loss, check_loss, l2_penalty
from logicat.nn.network import Network

#: objective(params) -> (cost, grads), each gradient of its parameter's shape
Objective = Callable[[list[np.ndarray]], tuple[float, list[np.ndarray]]]



def make_objective(
    engine: str,
    X: np.ndarray,
    y: np.ndarray,
    loss: Loss = "cross_entropy",
    *,
    n_layers: int = 1,
    activation: str = "relu",
    sample_weight: np.ndarray | None = None,
    alpha: float = 0.0,
    total_weight: float | None = None,
    scale: float = 1.0,
    compress: bool = True,
) -> Objective:
    """The objective of ``engine`` on the examples X (k, n) with labels y (k,) in {0, 1}.

    n_layers : layers of the network (1: logistic regression)
    sample_weight : (k,) weights >= 0 or None; alpha, total_weight : the L2 term alpha / (2 S)
        of ``logicat.nn.loss`` with S = ``total_weight`` (default: the sum of the weights, or k)
    scale : the features are ``scale * X`` (1/255 for uint8 pixels read from a file)
    compress : the fused kernel may keep pixel features k/255 as bytes (off for objectives built
        per mini-batch: the check would cost as much as the step)
    """
    check_param("engine", engine, [Options(ENGINES[:2])])
    check_loss(loss)
    total = total_weight or (float(sample_weight.sum()) if sample_weight is not None
                             else float(X.shape[0]))
    if engine == "autograd":
        return _autograd_objective(X, y, loss, activation, sample_weight, alpha, total, scale)
    if n_layers == 1 and sample_weight is None:
        fused = _fused(X, y, loss, scale, compress)
        if fused is not None:
            return _with_l2(fused, alpha, total)
    if X.dtype == np.uint8:  # pixels from a file: features in the compute dtype
        X = X.astype(np.float32 if y.dtype == np.float32 else np.float64) * scale

    def objective(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        return Network.from_params(params, activation).cost_and_gradients(
            X, y, loss, sample_weight=sample_weight, alpha=alpha, total_weight=total)

    return objective


def _fused(X, y, loss, scale, compress) -> Objective | None:
    """The one-pass kernel for logistic regression, when numba is there and X suits it."""
    from logicat.engines.numba import HAVE_NUMBA

    if not (HAVE_NUMBA and X.ndim == 2 and X.dtype in (np.float32, np.float64, np.uint8)):
        return None
    from logicat.engines.numba.fused import FusedObjective

    kernel = FusedObjective(X, y, loss, scale=scale, compress=compress,
                            dtype=y.dtype if X.dtype == np.uint8 else None)

    def objective(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        w, b = params
        cost, dw, db = kernel(w, float(b[0]))
        return cost, [dw, np.array([db], dtype=b.dtype)]

    objective.kernel = kernel  # type: ignore[attr-defined]
    return objective


def _with_l2(objective: Objective, alpha: float, total: float) -> Objective:
    """Add alpha / (2 S) ||w||^2 to a logistic objective's cost and (alpha / S) w to dJ/dw."""
    if not alpha:
        return objective

    def penalized(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        cost, grads = objective(params)
        penalty, (dw,) = l2_penalty([params[0]], alpha, total)
        return cost + penalty, [grads[0] + dw, grads[1]]

    return penalized


def _autograd_objective(X, y, loss, activation, sample_weight, alpha, total, scale) -> Objective:
    """The cost as a graph of engine ops, rebuilt at every call (define-by-run)."""
    from logicat.engines.autograd.graphs import network_cost
    from logicat.engines.autograd.tensor import Tensor

    X_t = Tensor(X if scale == 1.0 else X * scale, name="X")  # constants: no gradient
    y_t = Tensor(np.asarray(y, X_t.dtype), name="y")
    s_t = None if sample_weight is None else Tensor(sample_weight, name="s")

    def objective(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        leaves = [Tensor(p, requires_grad=True) for p in params]
        J = network_cost(X_t, y_t, leaves, loss, activation, s_t, alpha, total)
        J.backward()
        return float(J.data), [t.grad for t in leaves]

    return objective


def static_objective(
    X: np.ndarray, y: np.ndarray, shapes: list[tuple[int, ...]], loss: Loss = "cross_entropy",
    activation: str = "relu",
) -> Objective:
    """The "autograd" objective from a static graph: defined once with placeholders, then fed.

    ``shapes`` are the parameters' shapes ([W_1, b_1, ..., w, b]). Gives exactly the values and
    gradients of the dynamic engine (the same ops in the same order).
    """
    from logicat.engines.autograd.graphs import network_cost
    from logicat.engines.autograd.static import Graph, placeholder

    X_p = placeholder("X", (None, X.shape[1]), X.dtype)
    y_p = placeholder("y", (None,), X.dtype)
    params_p = [placeholder(f"p{i}", shape, X.dtype, requires_grad=True)
                for i, shape in enumerate(shapes)]
    graph = Graph(network_cost(X_p, y_p, params_p, loss, activation))

    def objective(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        feed = {X_p: X, y_p: y, **dict(zip(params_p, params, strict=True))}
        J, grads = graph.run(feed, grads=params_p)
        return float(J), grads

    return objective
