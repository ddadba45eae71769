"""The "autograd" engine: the cost built as a computation graph, the gradients by ``backward()``.

Where the "numpy" engine (``logicat.loss.cost_and_gradients``) applies gradients derived by hand,
this one only writes the forward computation

    z = X w + b                                  (m,) one logit per example
    cross-entropy   L = softplus(z) - y z        = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
    squared error   L = 1/2 (sigma(z) - y)^2
    J = (1/m) sum_i L_i

and lets the engine find dJ/dw and dJ/db. Both engines give the same numbers (to rounding).
"""

from __future__ import annotations

import numpy as np

from logicat.autograd.engine import Tensor
from logicat.autograd.static import Graph, placeholder

LOSSES = ("cross_entropy", "squared_error")


def logistic_cost(
    X: Tensor, y: Tensor, w: Tensor, b: Tensor, loss: str = "cross_entropy"
) -> Tensor:
    """J(w, b), the mean loss over the examples, as a graph of engine ops.

    Parameters
    ----------
    X : Tensor of shape (m, n), one example per row
    y : Tensor of shape (m,), labels in {0, 1}
    w : Tensor of shape (n,)
    b : Tensor of shape ()
    loss : "cross_entropy" or "squared_error"

    Returns
    -------
    J : Tensor of shape ()
    """
    _check_loss(loss)
    z = X @ w + b  # (m,) one logit per example
    if loss == "cross_entropy":
        losses = z.softplus() - y * z  # stable form of -[y log a + (1 - y) log(1 - a)]
    else:
        losses = 0.5 * (z.sigmoid() - y) ** 2
    z.name, losses.name = "z", "L"
    J = losses.mean()
    J.name = "J"
    return J


def make_autograd_objective(X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"):
    """The engine factory for ``LogisticRegression(engine="autograd")``.

    Parameters
    ----------
    X : ndarray of shape (m, n); y : ndarray of shape (m,) in {0, 1}, X's dtype.

    Returns
    -------
    objective(w (n,), b) -> (cost, dw (n,), db): builds the graph, calls ``backward()``.
    """
    _check_loss(loss)
    X_t, y_t = Tensor(X, name="X"), Tensor(y, name="y")  # constants: no gradient, no copy

    def objective(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        w_t = Tensor(w, requires_grad=True, name="w")
        b_t = Tensor(np.asarray(b, dtype=X_t.dtype), requires_grad=True, name="b")
        J = logistic_cost(X_t, y_t, w_t, b_t, loss)
        J.backward()
        return float(J.data), w_t.grad, float(b_t.grad)

    return objective


def make_static_objective(X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"):
    """The same objective from a static graph: defined once with placeholders, then fed.

    Gives exactly the values and gradients of ``make_autograd_objective``.
    """
    n = X.shape[1]
    X_p = placeholder("X", (None, n), X.dtype)
    y_p = placeholder("y", (None,), X.dtype)
    w_p = placeholder("w", (n,), X.dtype, requires_grad=True)
    b_p = placeholder("b", (), X.dtype, requires_grad=True)
    graph = Graph(logistic_cost(X_p, y_p, w_p, b_p, loss))

    def objective(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        J, (dw, db) = graph.run({X_p: X, y_p: y, w_p: w, b_p: b}, grads=[w_p, b_p])
        return float(J), dw, float(db)

    return objective


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"The 'loss' parameter must be one of {LOSSES}. Got {loss!r} instead.")
