r"""Full-batch gradient descent in the span of the examples: m numbers per step instead of n.

Every gradient-descent update adds a combination of the training examples to w:

    dJ/dw = X^T dz / m    so    w_t = w_0 + X^T a_t,  a_t in R^m,  a_{t+1} = a_t - alpha dz_t / m

and the logits need w only through X w:

    z_t = X w_t + b_t = X w_0 + K a_t + b_t,        K = X X^T   (m x m, the Gram matrix)

So the same iterates can be computed on a (m = 209 numbers) instead of w (n = 12288): after
K is formed once (m^2 n multiply-adds, one BLAS call, the price of ~m/2 ordinary iterations), each
step costs m^2 = 44k multiply-adds instead of 2 m n = 5.1M, and no longer reads X at all. w is
formed once at the end, w = w_0 + X^T a. This is the representer theorem at work, the same
reason kernel methods exist; in exact arithmetic the iterates are identical to the ordinary loop,
in floating point the cost histories agree to ~1e-15 in float64 (tests check 1e-12). The m x m
arithmetic is float64 even for float32 features (see ``gram_gradient_descent``).

It applies to plain full-batch gradient descent with a fixed learning rate, no L2 term, no
sample weights, and callbacks that only read the iteration and the cost (``cost_only``): the
estimator uses it for its default path when it pays, ``worth_it(m, n, max_iter)``, and the
general loop (``logicat.optim.Trainer``) everywhere else.

The step loop runs compiled (numba, the ``fast`` extra) in chunks of iterations, between which
the callbacks see every iteration's cost in order; without numba, a NumPy loop does the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from logicat.fast.kernels import HAVE_NUMBA, numba
from logicat.loss import Loss, loss_and_dz
from logicat.optim import GDResult, TrainingState, _diverged

#: iterations per compiled chunk: callbacks run between chunks, so progress stays live
CHUNK = 250
#: how many increases in a row count as divergence (as ``logicat.optim``)
DIVERGENCE_PATIENCE = 50


def worth_it(m: int, n: int, max_iter: int) -> bool:
    """True when forming K and stepping on a is cheaper than stepping on w.

    cost of the dual path:  m^2 n (K, once; a GEMM, ~2x faster per multiply-add than a GEMV)
                          + max_iter m^2 + m n (w at the end)
    cost of the primal:     max_iter 2 m n
    """
    return m * m * n / 2 + max_iter * m * m + m * n < max_iter * 2 * m * n / 2


def gram_gradient_descent(
    X: np.ndarray,
    y01: np.ndarray,
    w0: np.ndarray,
    b0: float,
    *,
    learning_rate: float,
    max_iter: int,
    loss: Loss,
    callbacks: Sequence = (),
    snapshot: Callable | None = None,
) -> GDResult:
    """Full-batch gradient descent on J(w, b), computed on a with w = w0 + X^T a.

    Parameters
    ----------
    X : ndarray of shape (m, n), float64 or float32 (the dtype of the returned coef)
    y01 : ndarray of shape (m,), labels in {0, 1}
    w0 : ndarray of shape (n,), initial weights; b0 : initial bias
    callbacks : cost-only callbacks, called with each iteration's ``TrainingState`` in order
        (its ``coef`` is None: the weights are formed at the end); returning True stops.
    snapshot : optional ``snapshot(n_done, coef, intercept, history, worse_in_a_row)`` that
        packs the state after an iteration as a checkpoint; ``TrainingState.snapshot`` calls it
        with the weights of that iteration, formed on demand (Ctrl-C in ``logicat train``).

    Returns
    -------
    GDResult, as ``logicat.optim.gradient_descent`` returns it.
    """
    dtype = X.dtype
    m = X.shape[0]
    # The m x m arithmetic runs in float64 whatever X's dtype: it costs nothing at this size, and
    # a float32 sum of 12288 products would lose ~4 digits of K. (Products of float32 numbers
    # are exact in float64.) The features stay as given; coef_ comes out in their dtype.
    X64 = X.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite cost
        K = X64 @ X64.T  # (m, m) the Gram matrix, one BLAS call
        z0 = X64 @ w0.astype(np.float64)  # (m,) the initial weights' part of every logit
    y = y01.astype(np.float64)
    a = np.zeros(m)  # (m,) w = w0 + X^T a
    b = float(b0)
    history = np.empty(max_iter)
    cross_entropy = loss == "cross_entropy"
    n_iter, worse, done = 0, 0, False
    while n_iter < max_iter and not done:
        steps = min(CHUNK, max_iter - n_iter)
        a_start, b_start = a.copy(), b
        b = _run(K, z0, y, a, b, learning_rate, cross_entropy, history[n_iter : n_iter + steps])
        chunk_start = n_iter

        def after(i, a_start=a_start, b_start=b_start, chunk_start=chunk_start):
            """(a, b) after iteration i of this chunk: the chunk redone from its start up to i."""
            a_i = a_start.copy()
            b_i = _run(K, z0, y, a_i, b_start, learning_rate, cross_entropy,
                       np.empty(i + 1 - chunk_start))
            return a_i, b_i

        for i in range(n_iter, n_iter + steps):
            cost = history[i]
            if not math.isfinite(cost):
                raise _diverged(i, cost, learning_rate, "the cost is no longer finite")
            worse = worse + 1 if i and cost > history[i - 1] else 0
            if worse >= DIVERGENCE_PATIENCE:
                raise _diverged(i, cost, learning_rate, f"the cost grew {worse} times in a row")
            take = None
            if snapshot is not None:
                def take(i=i, worse=worse, after=after):
                    a_i, b_i = after(i)
                    coef_i = (w0 + X64.T @ a_i).astype(dtype)
                    return snapshot(i + 1, coef_i, b_i, history[: i + 1], worse)

            state = TrainingState(i, cost, None, b, max_iter, learning_rate, snapshot=take)
            if any([cb(state) for cb in callbacks]):
                a, b = after(i)  # stop after iteration i
                steps, done = i + 1 - n_iter, True
                break
        n_iter += steps
    coef = (w0 + X64.T @ a).astype(dtype)  # (n,)
    return GDResult(coef, b, history[:n_iter], n_iter)


def _steps_numpy(K, z0, y, a, b, lr, cross_entropy, history):
    """The step loop in NumPy: a and history are updated in place; returns the final b."""
    m = len(y)
    loss = "cross_entropy" if cross_entropy else "squared_error"
    step = a.dtype.type(lr / m)
    for i in range(len(history)):
        z = z0 + K @ a + b  # (m,)
        losses, dz = loss_and_dz(z, y, loss)
        history[i] = losses.mean()
        a -= step * dz
        b -= lr * float(dz.mean())
    return b


if HAVE_NUMBA:

    @numba.njit(cache=True, nogil=True)
    def _sigmoid(z):
        # As scipy's expit: exp of a non-positive number only, so it never overflows.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    @numba.njit(cache=True, nogil=True)
    def _steps_numba(K, z0, y, a, b, lr, cross_entropy, history):
        m = y.shape[0]
        dz = np.empty(m, a.dtype)
        step = a.dtype.type(lr / m)
        for i in range(history.shape[0]):
            Ka = K @ a  # (m,) BLAS gemv
            cost = 0.0
            dz_sum = 0.0
            for r in range(m):
                z = z0[r] + Ka[r] + b
                s = _sigmoid(z)
                if cross_entropy:
                    # softplus(z) - y z, as logicat.loss.cross_entropy
                    cost += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y[r] * z
                    d = s - y[r]
                else:
                    e = s - y[r]
                    cost += 0.5 * e * e
                    d = e * s * _sigmoid(-z)
                dz[r] = d
                dz_sum += d
            history[i] = cost / m
            for r in range(m):
                a[r] -= step * dz[r]
            b -= lr * (dz_sum / m)
        return b

    def _run(K, z0, y, a, b, lr, cross_entropy, history):
        return _steps_numba(K, z0, y, a, float(b), float(lr), cross_entropy, history)

else:  # pragma: no cover - exercised only without the ``fast`` extra
    _run = _steps_numpy
