r"""The math of logistic regression as pure functions of NumPy arrays.

Notation: the lesson stacks the m examples as *columns*, X of shape (n_x, m), and writes
z = w^T x + b. logicat, like scikit-learn and PyTorch, stacks them as *rows*: X of shape (m, n_x),
so the m logits are ``z = X @ w + b`` and the gradient is ``X.T @ dz / m``.

Model      y_hat = a = sigma(z),  z = w^T x + b,  sigma(z) = 1 / (1 + e^{-z})
Losses     squared error   L(a, y) = 1/2 (a - y)^2
           cross-entropy   L(a, y) = -[y log a + (1 - y) log(1 - a)]
Cost       J(w, b) = (1/m) sum_i L(a_i, y_i)

The lesson's notes print the cross-entropy as -(y log a + (1 - y) log(1 - a)) with the minus sign
lost on the second term in one place; the loss here is the correct one above (the negative
log-likelihood of a Bernoulli label), whose gradient is dL/dz = a - y.

Every loss is computed from the logit z, not from a = sigma(z): once |z| > ~37, a rounds to exactly
0 or 1 in float64 and log(a) would be -inf. From z, cross-entropy is softplus(z) - y z, finite for
every finite z.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

Loss = Literal["cross_entropy", "squared_error"]
LOSSES: tuple[str, ...] = ("cross_entropy", "squared_error")


def sigmoid(z: ArrayLike) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^{-z}), elementwise, for any finite z without overflow or warnings.

    scipy's ``expit`` evaluates e^{-|z|} only, so it never overflows (z = -1e308 gives 0,
    z = 1e308 gives 1). Keeps float32 input in float32.
    """
    return special.expit(z)


def log_sigmoid(z: ArrayLike) -> np.ndarray:
    """log sigma(z) = -softplus(-z), elementwise and finite for any finite z."""
    return special.log_expit(z)


def softplus(z: ArrayLike) -> np.ndarray:
    """softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}), elementwise, never overflowing."""
    z = np.asarray(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def cross_entropy(z: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Cross-entropy of each example from its logit.

    L = -[y log sigma(z) + (1 - y) log(1 - sigma(z))] = softplus(z) - y z

    Parameters
    ----------
    z : array of shape (m,), logits
    y : array of shape (m,), labels in {0, 1}

    Returns
    -------
    ndarray of shape (m,), each >= 0.
    """
    z = np.asarray(z)
    return softplus(z) - np.asarray(y, dtype=z.dtype) * z


def squared_error(z: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Squared error of each example from its logit: L = 1/2 (sigma(z) - y)^2, shape (m,)."""
    z = np.asarray(z)
    return 0.5 * (sigmoid(z) - np.asarray(y, dtype=z.dtype)) ** 2


def loss_and_dz(z: np.ndarray, y: np.ndarray, loss: Loss) -> tuple[np.ndarray, np.ndarray]:
    """Per-example losses and their derivatives dL/dz, both of shape (m,).

    cross-entropy:  dL/dz = a - y
    squared error:  dL/dz = (a - y) a (1 - a)       (chain rule through sigma' = a (1 - a))
    """
    a = sigmoid(z)  # (m,) predicted probabilities
    if loss == "cross_entropy":
        return cross_entropy(z, y), a - y
    if loss == "squared_error":
        error = a - y
        # 1 - a would cancel catastrophically for large z; sigma(-z) is the same value, exactly.
        return 0.5 * error**2, error * a * sigmoid(-z)
    raise ValueError(f"The 'loss' parameter must be one of {LOSSES}. Got {loss!r} instead.")


def cost_and_gradients(
    w: np.ndarray,
    b: float,
    X: np.ndarray,
    y: np.ndarray,
    loss: Loss = "cross_entropy",
) -> tuple[float, np.ndarray, float]:
    r"""Cost J and its gradients, vectorized over the m examples.

    J(w, b)  = (1/m) sum_i L(sigma(x_i . w + b), y_i)
    dJ/dw    = X^T dz / m          dz_i = dL/dz_i   (cross-entropy: a_i - y_i)
    dJ/db    = sum_i dz_i / m

    Parameters
    ----------
    w : ndarray of shape (n,)
    b : float
    X : ndarray of shape (m, n), one example per row
    y : ndarray of shape (m,), labels in {0, 1}, same float dtype as X
    loss : "cross_entropy" or "squared_error"

    Returns
    -------
    cost : float
    dw : ndarray of shape (n,), dtype of X
    db : float
    """
    m = X.shape[0]
    z = X @ w + b  # (m,) one logit per example
    losses, dz = loss_and_dz(z, y, loss)  # (m,), (m,)
    dw = X.T @ dz / m  # (n,)
    return float(losses.mean()), dw, float(dz.mean())
