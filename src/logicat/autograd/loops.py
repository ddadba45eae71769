"""The lesson's first, non-vectorized version: explicit for-loops over examples and features.

This is the reference that vectorization replaces. It computes the same cost and gradients as
``logicat.loss.cost_and_gradients`` (to ~1e-12), one multiply-add at a time, in plain Python
floats (the fastest a Python loop gets without NumPy, so the speed-ups that
``logicat bench vectorize`` shows are not inflated by NumPy's per-element overhead). Slow on
purpose: never use it for training.
"""

from __future__ import annotations

import math

import numpy as np


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

    Parameters and returns as ``logicat.loss.cost_and_gradients``: w (n,), b, X (m, n), y (m,)
    -> (cost, dw (n,) in X's dtype, db).
    """
    if loss not in ("cross_entropy", "squared_error"):
        raise ValueError(
            "The 'loss' parameter must be one of ('cross_entropy', 'squared_error'). "
            f"Got {loss!r} instead."
        )
    rows, labels, weights = X.tolist(), np.asarray(y).tolist(), np.asarray(w).tolist()
    m, n = len(rows), len(weights)
    J, dw, db = 0.0, [0.0] * n, 0.0
    for i in range(m):
        x, y_i = rows[i], labels[i]
        z = float(b)
        for j in range(n):
            z += weights[j] * x[j]
        a = _sigmoid(z)
        if loss == "cross_entropy":
            J += _softplus(z) - y_i * z  # = -[y log a + (1 - y) log(1 - a)], stably
            dz = a - y_i
        else:
            J += 0.5 * (a - y_i) ** 2
            dz = (a - y_i) * a * _sigmoid(-z)  # sigma'(z) = a (1 - a) = a sigma(-z)
        for j in range(n):
            dw[j] += x[j] * dz
        db += dz
    return J / m, np.array([d / m for d in dw], dtype=X.dtype), db / m


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))
