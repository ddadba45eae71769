r"""The fused training kernel: cost and gradients in one pass over X.

The reference ``logicat.loss.cost_and_gradients`` reads the training matrix twice per iteration
(z = X w + b, then dw = X^T dz / m) and allocates new arrays for z, the losses, dz and dw. Here
each row x_i (12288 values, 48 KiB in float32) is read once: its logit, loss and dL/dz are
computed and its contribution dz_i x_i is added to dw while the row is still in the L1/L2 cache.

    z_i   = s (x_i . w) + b                 s = 1 for float features, 1/255 for uint8 pixels
    J     = (1/m) sum_i L(z_i, y_i)
    dJ/dw = (s/m) sum_i dz_i x_i            dz_i = dL/dz_i (cross-entropy: sigma(z_i) - y_i)
    dJ/db = (1/m) sum_i dz_i

With numba (the ``fast`` extra), the row loop is compiled once (cached on disk) and releases the
GIL, so the rows are split between ``n_threads`` Python threads, each with its own dw buffer
(preallocated; summed at the end); rows go four at a time, so dw passes through the cache once
per four rows. Without numba, a NumPy fallback uses preallocated buffers and BLAS (two passes
over X). Both agree with the reference to rounding: the float64
cost history of a 2000-iteration run matches to ~1e-15, float32 to ~1e-7 (tests check 1e-12 and
1e-6).

uint8 input (``scale=1/255``) keeps images as bytes, 4x fewer bytes to read than float32; the
1/255 is folded into the logit and the gradient instead of into a float copy of X.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from logicat.loss import Loss, loss_and_dz

try:  # the ``fast`` extra
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without the extra
    numba = None
    HAVE_NUMBA = False

#: Loss names as the integer codes the compiled kernel uses.
_LOSS_CODES = {"cross_entropy": 0, "squared_error": 1}
#: Fewer rows than this per thread is not worth a thread.
MIN_ROWS_PER_THREAD = 32


def _loss_dz(z, t, loss_code):  # pragma: no cover - compiled
    """(L, dL/dz) of one example from its logit z and label t, in float64, never overflowing."""
    e = math.exp(-abs(z))  # in (0, 1]
    a = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)  # sigma(z)
    if loss_code == 0:  # cross-entropy = softplus(z) - t z;  dL/dz = a - t
        return max(z, 0.0) + math.log1p(e) - t * z, a - t
    a_neg = e / (1.0 + e) if z >= 0.0 else 1.0 / (1.0 + e)  # sigma(-z) = 1 - a, without cancelling
    return 0.5 * (a - t) ** 2, (a - t) * a * a_neg  # squared error


def _dot_kernel(x, w):  # pragma: no cover - compiled
    """x . w accumulated in w's dtype (a loop of its own, so that LLVM vectorizes it)."""
    acc = w.dtype.type(0.0)
    for j in range(x.shape[0]):
        acc += x[j] * w[j]
    return acc


def _axpy_kernel(out, c, x):  # pragma: no cover - compiled
    """out += c x."""
    for j in range(x.shape[0]):
        out[j] += c * x[j]


def _axpy4_kernel(out, c0, x0, c1, x1, c2, x2, c3, x3):  # pragma: no cover - compiled
    """out += c0 x0 + c1 x1 + c2 x2 + c3 x3: one pass over out for four rows."""
    for j in range(x0.shape[0]):
        out[j] += c0 * x0[j] + c1 * x1[j] + c2 * x2[j] + c3 * x3[j]


def _rows_kernel(X, y, w, b, scale, loss_code, lo, hi, dw, stats):  # pragma: no cover - compiled
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
            loss_r, g[r] = _loss_dz(z, float(y[i + r]), loss_code)
            total_loss += loss_r
            total_dz += g[r]
        _axpy4(dw, dt(g[0]), X[i], dt(g[1]), X[i + 1], dt(g[2]), X[i + 2], dt(g[3]), X[i + 3])
        i += 4
    while i < hi:  # the last 0-3 rows, one at a time
        z = float(_dot(X[i], w)) * scale + b
        loss_i, g_i = _loss_dz(z, float(y[i]), loss_code)
        total_loss += loss_i
        total_dz += g_i
        _axpy(dw, dt(g_i), X[i])
        i += 1
    stats[0] += total_loss
    stats[1] += total_dz


def _matvec_kernel(X, w, out):  # pragma: no cover - compiled
    """out[i] = X[i] . w for every row, accumulated in w's dtype."""
    m, n = X.shape
    for i in range(m):
        xi = X[i]
        acc = w.dtype.type(0.0)
        for j in range(n):
            acc += xi[j] * w[j]
        out[i] = acc


def _rmatvec_add_kernel(X, d, out):  # pragma: no cover - compiled
    """out += X^T d, one row at a time (X (m, n), d (m,), out (n,))."""
    m, n = X.shape
    for i in range(m):
        xi = X[i]
        g = out.dtype.type(d[i])
        for j in range(n):
            out[j] += g * xi[j]


if HAVE_NUMBA:
    # 'reassoc' lets LLVM vectorize the reductions; no 'nnan'/'ninf', so NaN and inf still
    # propagate and gradient descent can still detect divergence.
    _jit = numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
    _loss_dz = _jit(_loss_dz)
    _dot = _jit(_dot_kernel)
    _axpy = _jit(_axpy_kernel)
    _axpy4 = _jit(_axpy4_kernel)
    _rows = _jit(_rows_kernel)
    _matvec = _jit(_matvec_kernel)
    _rmatvec_add = _jit(_rmatvec_add_kernel)


def default_threads() -> int:
    """Threads the kernel uses by default: the CPUs this process may run on ($LOGICAT_THREADS)."""
    env = os.environ.get("LOGICAT_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def compute_dtype(X: np.ndarray) -> np.dtype:
    """The float dtype the kernel computes in: X's own, or float32 for uint8 pixels."""
    return np.dtype(np.float32) if X.dtype == np.uint8 else X.dtype


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
    use_numba : False forces the NumPy fallback (default: numba when installed)
    compress : keep float features that are exactly k/255 as uint8 bytes (checked on the first
        call, so the results never depend on how many calls came before: a resumed run takes
        the same path as an uninterrupted one)

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
        use_numba: bool | None = None,
        compress: bool = True,
    ) -> None:
        if loss not in _LOSS_CODES:
            raise ValueError(
                f"The 'loss' parameter must be one of {tuple(_LOSS_CODES)}. Got {loss!r} instead."
            )
        if X.ndim != 2 or X.dtype not in (np.float32, np.float64, np.uint8):
            raise ValueError(
                "X must be a 2-D float32, float64 or uint8 array. "
                f"Got shape {X.shape} and dtype {X.dtype} instead."
            )
        self.X = np.ascontiguousarray(X)
        self.dtype = compute_dtype(self.X)
        self.y = np.ascontiguousarray(y, dtype=self.dtype)
        self.loss = loss
        self.scale = float(scale)
        self.use_numba = HAVE_NUMBA if use_numba is None else bool(use_numba and HAVE_NUMBA)
        m, n = self.X.shape
        threads = default_threads() if n_threads is None else max(1, int(n_threads))
        self.n_threads = max(1, min(threads, m // MIN_ROWS_PER_THREAD)) if self.use_numba else 1
        bounds = np.linspace(0, m, self.n_threads + 1).round().astype(int)
        self._ranges = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        # Preallocated: one dw accumulator and (loss sum, dz sum) per thread; z and dz (fallback).
        self._dw = np.zeros((self.n_threads, n), dtype=self.dtype)
        self._stats = np.zeros((self.n_threads, 2))
        self._z = np.empty(m, dtype=self.dtype)
        self._pool = _executor(self.n_threads - 1) if self.n_threads > 1 else None
        # Float pixels k/255 are kept as the bytes k from the first call (see _compress).
        self._compress_pending = compress and self.use_numba and self.X.dtype != np.uint8

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
        if not self.use_numba:
            return self._numpy(w, float(b))
        if self._compress_pending:
            self._compress()
            self._compress_pending = False
        self._dw.fill(0.0)
        self._stats.fill(0.0)
        code = _LOSS_CODES[self.loss]
        jobs = [
            self._pool.submit(
                _rows, self.X, self.y, w, float(b), self.scale, code, lo, hi, self._dw[t],
                self._stats[t],
            )
            for t, (lo, hi) in enumerate(self._ranges[1:], start=1)
        ] if self._pool else []
        lo, hi = self._ranges[0]
        _rows(self.X, self.y, w, float(b), self.scale, code, lo, hi, self._dw[0], self._stats[0])
        for job in jobs:
            job.result()
        dw = self._dw.sum(axis=0) if self.n_threads > 1 else self._dw[0].copy()
        dw *= self.dtype.type(self.scale / m)
        total_loss, total_dz = self._stats.sum(axis=0)
        return total_loss / m, dw, total_dz / m

    def _numpy(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        """Fallback: BLAS matrix-vector products into preallocated buffers."""
        m = self.X.shape[0]
        X = self.X if self.X.dtype != np.uint8 else self.X.astype(self.dtype)
        np.matmul(X, w, out=self._z)
        if self.scale != 1.0:
            self._z *= self.dtype.type(self.scale)
        self._z += self.dtype.type(b)
        losses, dz = loss_and_dz(self._z, self.y, self.loss)
        dw = np.matmul(dz, X)
        dw *= self.dtype.type(self.scale / m)
        return float(losses.mean()), dw, float(dz.mean())



_EXECUTORS: dict[int, ThreadPoolExecutor] = {}


def _executor(n: int) -> ThreadPoolExecutor:
    """One shared pool of n worker threads per n, created on first use (objectives are cheap)."""
    if n not in _EXECUTORS:
        _EXECUTORS[n] = ThreadPoolExecutor(n, thread_name_prefix="logicat-kernel")
    return _EXECUTORS[n]


def fused_objective(X: np.ndarray, y: np.ndarray, loss: Loss) -> FusedObjective:
    """Engine factory for ``logicat.engines``: the fused kernel on X (m, n) and y (m,)."""
    return FusedObjective(X, y, loss)


def _row_splits(m: int, n_threads: int | None) -> list[tuple[int, int]]:
    threads = default_threads() if n_threads is None else max(1, int(n_threads))
    threads = max(1, min(threads, m // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, m, threads + 1).round().astype(int).tolist()
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def matvec(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None, *,
           n_threads: int | None = None) -> np.ndarray:
    """z = X w for float or uint8 X (m, n), w (n,) float; result in w's dtype, shape (m,).

    With numba, the rows are split between ``n_threads`` threads (default ``default_threads()``).
    """
    if out is None:
        out = np.empty(X.shape[0], dtype=w.dtype)
    if not HAVE_NUMBA:
        np.matmul(X.astype(w.dtype, copy=False), w, out=out)
        return out
    X = np.ascontiguousarray(X)
    splits = _row_splits(X.shape[0], n_threads)
    jobs = [_executor(len(splits) - 1).submit(_matvec, X[lo:hi], w, out[lo:hi])
            for lo, hi in splits[1:]]
    lo, hi = splits[0]
    _matvec(X[lo:hi], w, out[lo:hi])
    for job in jobs:
        job.result()
    return out


def rmatvec_add(X: np.ndarray, d: np.ndarray, out: np.ndarray, *,
                n_threads: int | None = None) -> np.ndarray:
    """out += X^T d for float or uint8 X (m, n), d (m,); out (n,) float, updated in place.

    With numba, the rows are split between threads, each adding into its own buffer.
    """
    d = np.ascontiguousarray(d, dtype=out.dtype)
    if not HAVE_NUMBA:
        out += d @ X.astype(out.dtype, copy=False)
        return out
    X = np.ascontiguousarray(X)
    splits = _row_splits(X.shape[0], n_threads)
    parts = np.zeros((len(splits) - 1, out.shape[0]), out.dtype)
    jobs = [_executor(len(splits) - 1).submit(_rmatvec_add, X[lo:hi], d[lo:hi], parts[t])
            for t, (lo, hi) in enumerate(splits[1:])]
    lo, hi = splits[0]
    _rmatvec_add(X[lo:hi], d[lo:hi], out)
    for job in jobs:
        job.result()
    for part in parts:
        out += part
    return out


def fused_rows_add(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, loss: Loss,
                   dw: np.ndarray, *, scale: float = 1.0,
                   n_threads: int | None = None) -> tuple[float, float]:
    """One pass over a block of rows: dw += sum_i dz_i x_i, with z_i = scale (x_i . w) + b.

    X (k, n) float or uint8, y (k,), w and dw (n,) in the compute dtype; returns (sum of the
    losses, sum of dz). The streaming trainer's chunk step: each row is read once, while it is in
    cache, instead of once for the logits and again for the gradient. Needs numba.
    """
    X = np.ascontiguousarray(X)
    y = np.ascontiguousarray(y, dtype=dw.dtype)
    code = _LOSS_CODES[loss]
    splits = _row_splits(X.shape[0], n_threads)
    parts = np.zeros((len(splits) - 1, dw.shape[0]), dw.dtype)
    stats = np.zeros((len(splits), 2))
    jobs = [
        _executor(len(splits) - 1).submit(
            _rows, X, y, w, float(b), float(scale), code, lo, hi, parts[t], stats[t + 1]
        )
        for t, (lo, hi) in enumerate(splits[1:])
    ]
    lo, hi = splits[0]
    _rows(X, y, w, float(b), float(scale), code, lo, hi, dw, stats[0])
    for job in jobs:
        job.result()
    for part in parts:
        dw += part
    total_loss, total_dz = stats.sum(axis=0)
    return float(total_loss), float(total_dz)
