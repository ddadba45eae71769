"""The lesson's first, non-vectorized code: what vectorization is timed against.

``cost_and_gradients_loops`` computes what ``logicat.nn.loss.cost_and_gradients`` computes with
explicit for-loops over the examples and the features, one multiply-add at a time, in plain
Python floats (the fastest a Python loop gets without NumPy, so the speed-ups are not inflated
by NumPy's per-element overhead); ``dot_loops`` is the lesson's ``for i in range(n): c += a[i]
* b[i]``. ``logicat bench vectorize`` times them against the vectors, and tests compare them.
"""

from __future__ import annotations

import numpy as np

from logicat.nn.loss import check_loss, sigmoid, softplus


def dot_loops(a: list[float], b: list[float]) -> float:
    """sum_i a_i b_i, one product at a time (the lesson's ``for i in range(n): c += a[i]*b[i]``)."""
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def cost_and_gradients_loops(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"
) -> tuple[float, np.ndarray, float]:
    """Cost J and its gradients with for-loops over the m examples and the n_x features.

    J = 0, dw = (0, ..., 0), db = 0
    for i in 1..m:
        z = b + sum_j w_j x_ij                   (a loop over the n_x features)
        a = sigma(z);  J += L(a, y_i);  dz = dL/dz
        dw_j += x_ij dz  for every j             (another loop over the features)
        db += dz
    J, dw, db = J/m, dw/m, db/m

    Parameters and returns as ``logicat.nn.loss.cost_and_gradients``: w (n,), b, X (m, n), y (m,)
    -> (cost, dw (n,) in X's dtype, db).
    """
    check_loss(loss)
    rows, labels, weights = X.tolist(), np.asarray(y).tolist(), np.asarray(w).tolist()
    m, n = len(rows), len(weights)
    J, dw, db = 0.0, [0.0] * n, 0.0
    for i in range(m):
        x, y_i = rows[i], labels[i]
        z = float(b)
        for j in range(n):
            z += weights[j] * x[j]
        a = float(sigmoid(z))
        if loss == "cross_entropy":
            J += float(softplus(z)) - y_i * z  # = -[y log a + (1 - y) log(1 - a)], stably
            dz = a - y_i
        else:
            J += 0.5 * (a - y_i) ** 2
            dz = (a - y_i) * a * float(sigmoid(-z))  # sigma'(z) = a (1 - a) = a sigma(-z)
        for j in range(n):
            dw[j] += x[j] * dz
        db += dz
    return J / m, np.array([d / m for d in dw], dtype=X.dtype), db / m
