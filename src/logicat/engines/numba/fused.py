r"""The fused training kernel: cost and gradients of logistic regression in one pass over X.

The reference ``logicat.nn.loss.cost_and_gradients`` reads the training matrix twice per iteration
(z = X w + b, then dw = X^T dz / m) and allocates new arrays for z, the losses, dz and dw. Here
each row x_i (12288 values, 48 KiB in float32) is read once: its logit, loss and dL/dz are
computed and its contribution dz_i x_i is added to dw while the row is still in the L1/L2 cache.

    z_i   = s (x_i . w) + b                 s = 1 for float features, 1/255 for uint8 pixels
    J     = (1/m) sum_i L(z_i, y_i)
    dJ/dw = (s/m) sum_i dz_i x_i            dz_i = dL/dz_i (cross-entropy: sigma(z_i) - y_i)
    dJ/db = (1/m) sum_i dz_i

The row loop is compiled by numba once (cached on disk) and releases the GIL, so the rows are
split between ``n_threads`` Python threads, each with its own dw buffer (preallocated; summed at
the end); rows go four at a time, so dw passes through the cache once per four rows. It agrees
with the reference to rounding: the float64 cost history of a 2000-iteration run matches to
~1e-15, float32 to ~1e-7 (tests check 1e-12 and 1e-6). ``loss_dz`` is the jitted twin of
``logicat.nn.loss.loss_and_dz`` for one example (tested equal to it).

uint8 input (``scale=1/255``) keeps images as bytes, 4x fewer bytes to read than float32; the
1/255 is folded into the logit and the gradient instead of into a float copy of X.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from logicat.core.errors import ShapeError
from logicat.core.machine import usable_cpus
from logicat.core.validation import as_matrix
from logicat.nn.loss import Loss, check_loss

#: Loss names as the integer codes the compiled kernel uses.
_LOSS_CODES = {"cross_entropy": 0, "squared_error": 1}
#: Fewer rows than this per thread is not worth a thread.
MIN_ROWS_PER_THREAD = 32

# 'reassoc' lets LLVM vectorize the reductions; no 'nnan'/'ninf', so NaN and inf still
# propagate and gradient descent can still detect divergence.
_jit = numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})


@_jit
def loss_dz(z, t, loss_code):  # pragma: no cover - compiled
    """(L, dL/dz) of one example from its logit z and label t, in float64, never overflowing:
    ``logicat.nn.loss.loss_and_dz`` for one example (loss_code 0: cross-entropy, 1: squared error).
    """
    e = math.exp(-abs(z))  # in (0, 1]
    a = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)  # sigma(z)
    if loss_code == 0:  # cross-entropy = softplus(z) - t z;  dL/dz = a - t
        return max(z, 0.0) + math.log1p(e) - t * z, a - t
    a_neg = e / (1.0 + e) if z >= 0.0 else 1.0 / (1.0 + e)  # sigma(-z) = 1 - a, without cancelling
    return 0.5 * (a - t) ** 2, (a - t) * a * a_neg  # squared error


@_jit
def _dot(x, w):  # pragma: no cover - compiled
    """x . w accumulated in w's dtype (a loop of its own, so that LLVM vectorizes it)."""
    acc = w.dtype.type(0.0)
    for j in range(x.shape[0]):
        acc += x[j] * w[j]
    return acc


@_jit
def _axpy(out, c, x):  # pragma: no cover - compiled
    """out += c x."""
    for j in range(x.shape[0]):
        out[j] += c * x[j]


@_jit
def _axpy4(out, c0, x0, c1, x1, c2, x2, c3, x3):  # pragma: no cover - compiled
    """out += c0 x0 + c1 x1 + c2 x2 + c3 x3: one pass over out for four rows."""
    for j in range(x0.shape[0]):
        out[j] += c0 * x0[j] + c1 * x1[j] + c2 * x2[j] + c3 * x3[j]


@_jit
def _rows(X, y, w, b, scale, loss_code, lo, hi, dw, stats):  # pragma: no cover - compiled
    """Rows lo..hi-1 of X: add sum_i dz_i x_i to dw, sum_i L_i to stats[0], sum_i dz_i to stats[1].

    X (m, n) float or uint8, y (m,), w (n,) and dw (n,) in the compute dtype. Rows go four at a
    time: their logits, then one pass adding all four to dw while they are still in cache, so dw
    travels through the cache a quarter as often as the rows do.
    """
    dt = w.dtype.type
    total_loss = 0.0
    total_dz = 0.0
    i = lo
    while i + 4 <= hi:
        g = np.empty(4)
        for r in range(4):  # logit, loss and dL/dz of each row
            z = float(_dot(X[i + r], w)) * scale + b
            loss_r, g[r] = loss_dz(z, float(y[i + r]), loss_code)
            total_loss += loss_r
            total_dz += g[r]
        _axpy4(dw, dt(g[0]), X[i], dt(g[1]), X[i + 1], dt(g[2]), X[i + 2], dt(g[3]), X[i + 3])
        i += 4
    while i < hi:  # the last 0-3 rows, one at a time
        z = float(_dot(X[i], w)) * scale + b
        loss_i, g_i = loss_dz(z, float(y[i]), loss_code)
        total_loss += loss_i
        total_dz += g_i
        _axpy(dw, dt(g_i), X[i])
        i += 1
    stats[0] += total_loss
    stats[1] += total_dz


@_jit
def _matvec(X, w, out):  # pragma: no cover - compiled
    """out[i] = X[i] . w for every row, accumulated in w's dtype."""
    for i in range(X.shape[0]):
        out[i] = _dot(X[i], w)


@_jit
def _rmatvec_add(X, d, out):  # pragma: no cover - compiled
    """out += X^T d, one row at a time (X (m, n), d (m,), out (n,))."""
    for i in range(X.shape[0]):
        _axpy(out, out.dtype.type(d[i]), X[i])


def default_threads() -> int:
    """Threads the kernel uses by default: the CPUs this process may run on ($LOGICAT_THREADS)."""
    env = os.environ.get("LOGICAT_THREADS")
    if env:
        return max(1, int(env))
    return usable_cpus()


def compute_dtype(X: np.ndarray) -> np.dtype:
    """The float dtype the kernel computes in: X's own, or float32 for uint8 pixels."""
    return np.dtype(np.float32) if X.dtype == np.uint8 else X.dtype


_EXECUTORS: dict[int, ThreadPoolExecutor] = {}


def _executor(n: int) -> ThreadPoolExecutor:
    """One shared pool of n worker threads per n, created on first use (objectives are cheap)."""
    if n not in _EXECUTORS:
        _EXECUTORS[n] = ThreadPoolExecutor(n, thread_name_prefix="logicat-kernel")
    return _EXECUTORS[n]


def row_splits(m: int, n_threads: int | None) -> list[tuple[int, int]]:
    """[lo, hi) row ranges for the threads: at least ``MIN_ROWS_PER_THREAD`` rows each."""
    threads = default_threads() if n_threads is None else max(1, int(n_threads))
    threads = max(1, min(threads, m // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, m, threads + 1).round().astype(int).tolist()
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _in_threads(kernel, splits, args_of) -> None:
    """Run ``kernel(*args_of(t, lo, hi))`` for every split, the first here, the rest in the pool."""
    jobs = [_executor(len(splits) - 1).submit(kernel, *args_of(t, lo, hi))
            for t, (lo, hi) in enumerate(splits) if t]
    lo, hi = splits[0]
    kernel(*args_of(0, lo, hi))
    for job in jobs:
        job.result()


def fused_rows_add(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, loss: Loss,
                   dw: np.ndarray, *, scale: float = 1.0, n_threads: int | None = None,
                   buffers: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """One pass over a block of rows: dw += sum_i dz_i x_i, with z_i = scale (x_i . w) + b.

    X (k, n) float or uint8, y (k,), w and dw (n,) in the compute dtype; returns (sum of the
    losses, sum of dz). Each row is read once, while it is in cache. ``buffers``: preallocated
    per-thread (dw (threads - 1, n), stats (threads, 2)), for callers that repeat the call.
    """
    X = np.ascontiguousarray(X)
    y = np.ascontiguousarray(y, dtype=dw.dtype)
    code = _LOSS_CODES[check_loss(loss)]
    splits = row_splits(X.shape[0], n_threads)
    if buffers is None:
        parts = np.zeros((len(splits) - 1, dw.shape[0]), dw.dtype)
        stats = np.zeros((len(splits), 2))
    else:
        parts, stats = buffers
        parts.fill(0.0)
        stats.fill(0.0)
    outs = [dw, *parts]
    _in_threads(_rows, splits, lambda t, lo, hi: (X, y, w, float(b), float(scale), code, lo, hi,
                                                  outs[t], stats[t]))
    for part in parts:
        dw += part
    total_loss, total_dz = stats.sum(axis=0)
    return float(total_loss), float(total_dz)


class FusedObjective:
    """``objective(w, b) -> (cost, dw, db)`` for gradient descent, one pass over X per call.

    Parameters
    ----------
    X : ndarray of shape (m, n), float32, float64 or uint8 (then ``scale`` is usually 1/255),
        C-contiguous (copied otherwise)
    y : ndarray of shape (m,), labels in {0, 1}
    loss : "cross_entropy" or "squared_error"
    scale : features are ``scale * X``
    n_threads : threads to split the rows between (default ``default_threads()``)
    compress : keep float features that are exactly k/255 as uint8 bytes (checked on the first
        call, so the results never depend on how many calls came before: a resumed run takes
        the same path as an uninterrupted one)
    dtype : the compute dtype (default X's own, float32 for uint8 pixels)

    The returned ``dw`` is a new array of shape (n,) in the compute dtype; ``cost`` and ``db`` are
    Python floats.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        loss: Loss = "cross_entropy",
        *,
        scale: float = 1.0,
        n_threads: int | None = None,
        compress: bool = True,
        dtype: np.dtype | None = None,
    ) -> None:
        check_loss(loss)
        X = as_matrix("X", X)
        if X.dtype not in (np.float32, np.float64, np.uint8):
            raise ShapeError(
                "X must be a 2-D float32, float64 or uint8 array. "
                f"Got shape {X.shape} and dtype {X.dtype} instead."
            )
        self.X = np.ascontiguousarray(X)
        self.dtype = compute_dtype(self.X) if dtype is None else np.dtype(dtype)
        self.y = np.ascontiguousarray(y, dtype=self.dtype)
        self.loss = loss
        self.scale = float(scale)
        m, n = self.X.shape
        self._splits = row_splits(m, n_threads)
        self.n_threads = len(self._splits)
        # Preallocated: the extra threads' dw accumulators and (loss sum, dz sum) per thread.
        self._buffers = (np.zeros((self.n_threads - 1, n), self.dtype),
                         np.zeros((self.n_threads, 2)))
        # Float pixels k/255 are kept as the bytes k from the first call (see _compress).
        self._compress_pending = compress and self.X.dtype != np.uint8

    def _compress(self) -> None:
        """If every x is exactly k/255 (k = 0..255) in X's dtype, keep k as uint8 with scale 1/255.

        Images scaled by ``images_to_features`` are: then each iteration reads 1 byte per value
        instead of 4 or 8, and the logits are (x_i . w) computed as (k_i . w) / 255, equal to
        rounding (~1e-16 relative in float64). Checked once, on the first call; callers that
        build a new objective per mini-batch pass ``compress=False``.
        """
        X = self.X
        if self.scale != 1.0 or not (X.min() >= 0.0 and X.max() <= 1.0):
            return
        k = np.rint(X * X.dtype.type(255.0))
        pixels = k.astype(np.uint8)
        del k
        if np.array_equal(pixels.astype(X.dtype) / X.dtype.type(255.0), X):
            self.X, self.scale = pixels, self.scale / 255.0

    def __call__(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        m = self.X.shape[0]
        w = np.asarray(w, dtype=self.dtype)
        if self._compress_pending:
            self._compress()
            self._compress_pending = False
        dw = np.zeros(w.shape[0], self.dtype)
        total_loss, total_dz = fused_rows_add(
            self.X, self.y, w, b, self.loss, dw, scale=self.scale, n_threads=self.n_threads,
            buffers=self._buffers,
        )
        dw *= self.dtype.type(self.scale / m)
        return total_loss / m, dw, total_dz / m


def matvec(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None, *,
           n_threads: int | None = None) -> np.ndarray:
    """z = X w for float or uint8 X (m, n), w (n,) float; result in w's dtype, shape (m,).

    The rows are split between ``n_threads`` threads (default ``default_threads()``).
    """
    if out is None:
        out = np.empty(X.shape[0], dtype=w.dtype)
    X = np.ascontiguousarray(X)
    _in_threads(_matvec, row_splits(X.shape[0], n_threads),
                lambda t, lo, hi: (X[lo:hi], w, out[lo:hi]))
    return out


def rmatvec_add(X: np.ndarray, d: np.ndarray, out: np.ndarray, *,
                n_threads: int | None = None) -> np.ndarray:
    """out += X^T d for float or uint8 X (m, n), d (m,); out (n,) float, updated in place.

    The rows are split between threads, each adding into its own buffer.
    """
    d = np.ascontiguousarray(d, dtype=out.dtype)
    X = np.ascontiguousarray(X)
    splits = row_splits(X.shape[0], n_threads)
    parts = np.zeros((len(splits) - 1, out.shape[0]), out.dtype)
    outs = [out, *parts]
    _in_threads(_rmatvec_add, splits, lambda t, lo, hi: (X[lo:hi], d[lo:hi], outs[t]))
    for part in parts:
        out += part
    return out
