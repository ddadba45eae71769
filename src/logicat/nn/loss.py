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

Beyond the lesson's mean: sample weights and the L2 penalty. With weights s_i >= 0 (class weights
multiply into them) and the L2 strength alpha >= 0,

    J(w, b) = sum_i s_i L_i / S  +  alpha / (2 S) ||w||^2,        S = sum_i s_i
    dJ/dw   = X^T (s * dz) / S + (alpha / S) w,    dJ/db = sum_i s_i dz_i / S

With s_i = 1, S = m: the lesson's J plus alpha/(2m) ||w||^2 (the bias is not penalised).
Multiplying by C S shows it is scikit-learn's ``LogisticRegression`` objective
C sum_i s_i L_i + 1/2 ||w||^2 with **alpha = 1 / C**, whatever m and the weights are. For a
mini-batch B the data term uses S_B = sum_{i in B} s_i and the penalty keeps the whole set's S,
so that a pass over all batches penalises ||w||^2 as the full objective does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from logicat.core.errors import ShapeError
from logicat.core.validation import Options, as_matrix, as_vector, check_param, check_rows

Loss = Literal["cross_entropy", "squared_error"]


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """e^{-|z|}, in (0, 1]: the one exponential sigmoid and softplus are made of (no overflow)."""
    return np.exp(-np.abs(z))


def _sigmoid_from(z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """sigma(z) given e = e^{-|z|}: 1/(1+e) for z >= 0, e/(1+e) for z < 0 (never 1 - tiny)."""
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _float_array(z: ArrayLike) -> np.ndarray:
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def sigmoid(z: ArrayLike) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^{-z}), elementwise, for any finite z without overflow or warnings.

    Only e^{-|z|} is evaluated, so z = -1e308 gives 0 and z = 1e308 gives 1. Keeps float32 input
    in float32; integers become float64. Same shape as z.
    """
    z = _float_array(z)
    return _sigmoid_from(z, _exp_neg_abs(z))


def softplus(z: ArrayLike) -> np.ndarray:
    """softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}), elementwise, never overflowing."""
    z = _float_array(z)
    return np.maximum(z, 0) + np.log1p(_exp_neg_abs(z))


def log_sigmoid(z: ArrayLike) -> np.ndarray:
    """log sigma(z) = -softplus(-z), elementwise and finite for any finite z."""
    return -softplus(-_float_array(z))


def _same_shape(z: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    z = _float_array(z)
    y = np.asarray(y)
    if y.shape != z.shape:
        raise ShapeError(
            f"y must have the shape of z, {z.shape}, one label per logit. Got shape {y.shape} "
            "instead."
        )
    return z, y.astype(z.dtype, copy=False)


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
    z, y = _same_shape(z, y)
    return softplus(z) - y * z


def squared_error(z: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Squared error of each example from its logit: L = 1/2 (sigma(z) - y)^2, shape (m,)."""
    z, y = _same_shape(z, y)
    return 0.5 * (sigmoid(z) - y) ** 2


def _cross_entropy_and_dz(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L = softplus(z) - y z and dL/dz = a - y, sharing one exponential."""
    e = _exp_neg_abs(z)
    return np.maximum(z, 0) + np.log1p(e) - y * z, _sigmoid_from(z, e) - y


def _squared_error_and_dz(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L = 1/2 (a - y)^2 and dL/dz = (a - y) a (1 - a), with 1 - a taken as sigma(-z)."""
    e = _exp_neg_abs(z)
    a = _sigmoid_from(z, e)
    # 1 - a would cancel catastrophically for large z; sigma(-z) is the same value, exactly.
    error = a - y
    return 0.5 * error**2, error * a * _sigmoid_from(-z, e)


#: The one loss registry: name -> (z (m,), y (m,)) -> (L (m,), dL/dz (m,)).
LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "cross_entropy": _cross_entropy_and_dz,
    "squared_error": _squared_error_and_dz,
}


def check_loss(loss: str) -> str:
    """``loss`` if it names a loss of ``LOSSES``, else the one-line ``ParameterError``."""
    check_param("loss", loss, [Options(LOSSES)])
    return loss


def loss_and_dz(z: np.ndarray, y: np.ndarray, loss: Loss) -> tuple[np.ndarray, np.ndarray]:
    """Per-example losses and their derivatives dL/dz, both of the shape of z.

    cross-entropy:  dL/dz = a - y
    squared error:  dL/dz = (a - y) a (1 - a)       (chain rule through sigma' = a (1 - a))
    """
    z, y = _same_shape(z, y)
    return LOSSES[check_loss(loss)](z, y)


def mean_cost_and_dz(
    z: np.ndarray, y: np.ndarray, loss: Loss, sample_weight: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """The cost J = sum_i s_i L_i / S and dJ/dz_i = s_i dL/dz_i / S (s_i = 1, S = m: the mean).

    z, y, sample_weight : arrays of shape (m,). Returns (J, dJ/dz of shape (m,)). A batch whose
    weights are all 0 contributes nothing (S is taken as 1).
    """
    losses, dz = loss_and_dz(z, y, loss)
    if sample_weight is None:
        m = z.shape[0]
        return float(losses.mean()), dz / m
    total = float(sample_weight.sum()) or 1.0
    return float(sample_weight @ losses) / total, sample_weight * dz / total


def l2_penalty(weights: list[np.ndarray], alpha: float, total_weight: float
               ) -> tuple[float, list[np.ndarray]]:
    """alpha / (2 S) sum ||W||^2 and its gradients (alpha / S) W, for S = ``total_weight``."""
    k = alpha / total_weight
    return 0.5 * k * sum(float(np.vdot(W, W)) for W in weights), [k * W for W in weights]


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

    (Sample weights and the L2 term of the module docstring are
    ``logicat.nn.network.Network.cost_and_gradients``'s, for any number of layers.)

    Parameters
    ----------
    w : ndarray of shape (n,)
    b : float
    X : ndarray of shape (m, n), one example per row
    y : ndarray of shape (m,), labels in {0, 1}
    loss : "cross_entropy" or "squared_error"

    Returns
    -------
    cost : float
    dw : ndarray of shape (n,), dtype of X
    db : float
    """
    X = as_matrix("X", X)
    w = as_vector("w", w, X.shape[1])
    y = check_rows("y", y, X.shape[0])
    z = X @ w + b  # (m,) one logit per example
    cost, dz = mean_cost_and_dz(z, y, loss)  # float, (m,) with the 1/m in it
    return cost, X.T @ dz, float(dz.sum())
