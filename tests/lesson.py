"""The lesson's own vectorized code, as it is written: examples as *columns*, X of shape
(n_x, m), ``np.dot(w.T, X)``, a new array every step. Slow on purpose; the reference that
``tests/estimators/test_logistic.py`` checks logicat against and that the speed suite
(``benchmarks/suite.py``) times as its baseline L. (The course's networks are in
``tests/networks/course.py``.)
"""

from __future__ import annotations

import numpy as np


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


def lesson_optimize(w, b, X, Y, num_iterations, learning_rate, record_every=100):
    """The lesson's gradient descent; records the cost every 100 iterations, as it does (every
    ``record_every``)."""
    costs = []
    for i in range(num_iterations):
        grads, cost = lesson_propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % record_every == 0:
            costs.append(cost)
    return w, b, costs
