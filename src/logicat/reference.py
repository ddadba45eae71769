"""The lesson's own code, kept as references: the for-loop version and the column-layout version.

Both compute what ``logicat.loss.cost_and_gradients`` computes and are slow on purpose; tests
compare logicat against them, ``logicat bench vectorize`` times the loops against the vectors,
and the speed suite times ``lesson_optimize`` as its baseline L.

- ``cost_and_gradients_loops``: the lesson's first, non-vectorized version, explicit for-loops
  over the examples and the features, one multiply-add at a time, in plain Python floats (the
  fastest a Python loop gets without NumPy, so the speed-ups are not inflated by NumPy's
  per-element overhead).
- ``lesson_propagate`` / ``lesson_optimize``: the lesson's vectorized code as it is written,
  examples as *columns*, X of shape (n_x, m), ``np.dot(w.T, X)``, a new array every step.
"""

from __future__ import annotations

import numpy as np

from logicat.loss import check_loss, sigmoid, softplus


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


# ------------------------------------------------------------ the lesson's column layout
def lesson_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lesson_propagate(w, b, X, Y):
    """The lesson's forward and backward pass; X is (n_x, m), examples as columns."""
    m = X.shape[1]
    A = lesson_sigmoid(np.dot(w.T, X) + b)
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = 1 / m * np.dot(X, (A - Y).T)
    db = 1 / m * np.sum(A - Y)
    cost = np.squeeze(cost)
    return {"dw": dw, "db": db}, cost


def lesson_optimize(w, b, X, Y, num_iterations, learning_rate):
    """The lesson's gradient descent; records the cost every 100 iterations, as it does."""
    costs = []
    for i in range(num_iterations):
        grads, cost = lesson_propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
    return w, b, costs
