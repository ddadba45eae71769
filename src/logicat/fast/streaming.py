r"""Out-of-core training: the training matrix streamed from an HDF5 file in chunks.

The file has the cat-data layout (``<prefix>_set_x`` uint8 (m, size, size, 3), ``<prefix>_set_y``
(m,), ``list_classes``), as ``logicat pack`` writes it. Images stay uint8 in memory (4x fewer
bytes than float32, 8x fewer than float64); the 1/255 scaling is folded into the arithmetic:

    z_c   = (X_c w) / 255 + b                    for each chunk c of rows (k, n) uint8
    J     = (1/m) sum_c sum_{i in c} L(z_i, y_i)                 (``logicat.loss.loss_and_dz``)
    dJ/dw = (1/(255 m)) sum_c X_c^T dz_c,  dJ/db = (1/m) sum_c sum_i dz_i

Two modes:

- ``streaming_gradient_descent``: exact full-batch gradient descent; every iteration reads the
  whole file once, chunk by chunk, and accumulates the gradient. On data that fits in memory it
  takes the same steps as ``LogisticRegression`` (float64: to ~1e-15).
- ``streaming_sgd``: mini-batch SGD. Each epoch visits the blocks of ``block_rows`` consecutive
  rows in a random order, shuffles the rows inside each block and steps once per mini-batch of
  ``batch_size`` rows (a block shuffle, as a shuffle buffer does: contiguous reads stay fast on
  disk). Reproducible with ``seed``.

Peak memory is a few chunks (two buffers: one being read by a background thread while the other
is used), independent of m.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from logicat.data.catvnoncat import check_labels, class_names, h5_layout
from logicat.errors import DataFileError, DivergenceError
from logicat.fast.kernels import HAVE_NUMBA, fused_rows_add, matvec, rmatvec_add
from logicat.loss import LOSSES, Loss, loss_and_dz
from logicat.optim import GDResult, TrainingState, gradient_descent

SCALE = 1.0 / 255.0
#: Default rows per chunk: 512 images of 64x64x3 = 6 MiB of uint8.
CHUNK_ROWS = 512


class H5Images:
    """An HDF5 file of the cat-data layout, read in row chunks without loading it.

    Attributes: ``path``, ``m`` (images), ``n`` (features per image), ``image_size``, ``classes``
    (name of label 0, name of label 1), ``y`` (all labels, int64 (m,): small enough to hold).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            problem = "is a folder, not an HDF5 file" if self.path.is_dir() else "no such file"
            raise DataFileError(f"{self.path}: {problem}")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise DataFileError(f"{self.path}: not a readable HDF5 file ({err})") from None
        try:
            self._read_layout(self._file)
        except BaseException:
            self._file.close()
            raise

    def _read_layout(self, f: h5py.File) -> None:
        x_name, y_name, shape = h5_layout(self.path, f)
        self.x = f[x_name]
        self.y = check_labels(self.path, y_name, f[y_name][:])
        self.m, self.image_size = int(shape[0]), int(shape[1])
        self.n = self.image_size * self.image_size * 3
        self.classes = class_names(self.path, f["list_classes"][()])

    def read(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows start..stop-1 as uint8 (stop - start, n), read into (a view of) ``out``."""
        view = out[: stop - start].reshape(stop - start, *self.x.shape[1:])
        self.x.read_direct(view, np.s_[start:stop])
        return out[: stop - start]

    def chunks(self, rows: int, order: Sequence[int] | None = None
               ) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, X_chunk uint8 (k, n))`` for consecutive blocks of ``rows`` rows.

        ``order``: the block numbers to visit (default all, in order). The next block is read by
        a background thread while the caller works on this one (two preallocated buffers); a
        yielded chunk is valid until the next one is requested.
        """
        n_blocks = math.ceil(self.m / rows)
        order = list(range(n_blocks)) if order is None else list(order)
        buffers = [np.empty((rows, self.n), np.uint8) for _ in range(2)]
        result: dict = {}

        def load(i: int, slot: int) -> None:
            start, stop = order[i] * rows, min(order[i] * rows + rows, self.m)
            try:
                result[slot] = (start, stop, self.read(start, stop, buffers[slot]))
            except BaseException as err:  # re-raised in the caller's thread
                result[slot] = err

        thread = threading.Thread(target=load, args=(0, 0)) if order else None
        if thread:
            thread.start()
        for i in range(len(order)):
            thread.join()
            got = result.pop(i % 2)
            if isinstance(got, BaseException):
                raise DataFileError(f"{self.path}: cannot read images ({got})") from got
            if i + 1 < len(order):
                thread = threading.Thread(target=load, args=(i + 1, (i + 1) % 2))
                thread.start()
            yield got

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> H5Images:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check(loss: str, dtype) -> np.dtype:
    if loss not in LOSSES:
        raise ValueError(f"The 'loss' parameter must be one of {LOSSES}. Got {loss!r} instead.")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"The 'dtype' parameter must be float32 or float64. Got {dtype} instead.")
    return dtype


def chunk_gradient(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, loss: Loss,
                   dw: np.ndarray) -> tuple[float, float]:
    """One chunk's share: adds X^T dz (unscaled) to dw; returns (sum of losses, sum of dz).

    X uint8 (k, n) pixels, y (k,) in w's dtype, w and dw (n,).
    """
    if HAVE_NUMBA:  # one fused pass over the chunk's rows
        return fused_rows_add(X, y, w, b, loss, dw, scale=SCALE)
    # A diverging run overflows here; the non-finite cost is reported as a DivergenceError.
    with np.errstate(over="ignore", invalid="ignore"):
        z = matvec(X, w)  # (k,) pixel . w
        z *= SCALE
        z += b
        losses, dz = loss_and_dz(z, y, loss)  # (k,), (k,)
        rmatvec_add(X, dz, dw)
        return float(losses.sum(dtype=np.float64)), float(dz.sum(dtype=np.float64))


def file_objective(source: H5Images, loss: Loss = "cross_entropy", dtype=np.float64, *,
                   chunk_rows: int = CHUNK_ROWS) -> Callable:
    """``objective(w, b) -> (cost, dw, db)`` over the whole file, one chunk at a time."""
    dtype = _check(loss, dtype)
    y_all = source.y.astype(dtype)
    dw = np.zeros(source.n, dtype)

    def objective(w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        dw.fill(0.0)
        total_loss = total_dz = 0.0
        for start, stop, X in source.chunks(chunk_rows):
            s_loss, s_dz = chunk_gradient(X, y_all[start:stop], w, b, loss, dw)
            total_loss += s_loss
            total_dz += s_dz
        m = source.m
        return total_loss / m, dw * dtype.type(SCALE / m), total_dz / m

    return objective


def streaming_gradient_descent(
    source: H5Images,
    *,
    learning_rate: float = 0.005,
    max_iter: int = 2000,
    loss: Loss = "cross_entropy",
    dtype=np.float64,
    chunk_rows: int = CHUNK_ROWS,
    callbacks: Sequence[Callable[[TrainingState], bool | None]] = (),
) -> GDResult:
    """Exact full-batch gradient descent from zero weights over a file read in chunks."""
    dtype = _check(loss, dtype)
    objective = file_objective(source, loss, dtype, chunk_rows=chunk_rows)
    return gradient_descent(objective, np.zeros(source.n, dtype), 0.0,
                            learning_rate=learning_rate, max_iter=max_iter, callbacks=callbacks)


def streaming_sgd(
    source: H5Images,
    *,
    learning_rate: float = 0.005,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int | None = 0,
    loss: Loss = "cross_entropy",
    dtype=np.float64,
    block_rows: int = CHUNK_ROWS,
    shuffle: bool = True,
    callbacks: Sequence[Callable[[TrainingState], bool | None]] = (),
) -> GDResult:
    """Mini-batch SGD from zero weights with a block shuffle (see the module docstring).

    ``cost_history[e]`` is the mean over epoch e of each mini-batch's cost before its step
    (weighted by batch size). Callbacks see one ``TrainingState`` per epoch.
    """
    dtype = _check(loss, dtype)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"The 'batch_size' parameter must be an int >= 1. Got {batch_size!r} "
                         "instead.")
    rng = np.random.default_rng(seed)
    y_all = source.y.astype(dtype)
    w, b = np.zeros(source.n, dtype), 0.0
    dw = np.zeros(source.n, dtype)
    history = []
    n_blocks = math.ceil(source.m / block_rows)
    for epoch in range(epochs):
        order = rng.permutation(n_blocks) if shuffle else None
        total, carry_X, carry_y = 0.0, None, None
        for start, stop, X in source.chunks(block_rows, order):
            rows = rng.permutation(stop - start) if shuffle else np.arange(stop - start)
            Xb_all, yb_all = X[rows], y_all[start:stop][rows]
            if carry_X is not None:  # rows left over from the previous block
                Xb_all = np.concatenate([carry_X, Xb_all])
                yb_all = np.concatenate([carry_y, yb_all])
            k_full = len(yb_all) // batch_size * batch_size
            for i in range(0, k_full, batch_size):
                total, b = _sgd_step(Xb_all[i:i + batch_size], yb_all[i:i + batch_size], w, b,
                                     loss, dw, learning_rate, total)
            carry_X, carry_y = Xb_all[k_full:], yb_all[k_full:]
            if not len(carry_y):
                carry_X = carry_y = None
        if carry_X is not None:  # the last, smaller mini-batch of the epoch
            total, b = _sgd_step(carry_X, carry_y, w, b, loss, dw, learning_rate, total)
        cost = total / source.m
        history.append(cost)
        if not math.isfinite(cost):
            raise DivergenceError(
                f"SGD diverged in epoch {epoch} (cost {cost:.6g}): the learning rate "
                f"{learning_rate:g} is too large; try a smaller one."
            )
        state = TrainingState(epoch, cost, w, b, epochs, learning_rate=learning_rate)
        if any([cb(state) for cb in callbacks]):
            break
    return GDResult(w, b, np.asarray(history), len(history))


def _sgd_step(X, y, w, b, loss, dw, learning_rate, total):
    dw.fill(0.0)
    s_loss, s_dz = chunk_gradient(X, y, w, b, loss, dw)
    k = len(y)
    with np.errstate(over="ignore", invalid="ignore"):
        w -= dw * w.dtype.type(learning_rate * SCALE / k)
    b -= learning_rate * s_dz / k
    return total + s_loss, b


@dataclass
class ReadSpeed:
    seconds: float
    gigabytes: float

    @property
    def gb_per_s(self) -> float:
        return self.gigabytes / self.seconds


def sequential_read(source: H5Images, chunk_rows: int = CHUNK_ROWS) -> ReadSpeed:
    """Time a plain sequential read of every image (the baseline for training throughput)."""
    import time

    buf = np.empty((chunk_rows, source.n), np.uint8)
    start = time.perf_counter()
    for lo in range(0, source.m, chunk_rows):
        source.read(lo, min(lo + chunk_rows, source.m), buf)
    return ReadSpeed(time.perf_counter() - start, source.m * source.n / 1e9)


def predict_file(source: H5Images, w: np.ndarray, b: float, *, chunk_rows: int = CHUNK_ROWS
                 ) -> np.ndarray:
    """p = sigma(z) for every image of the file, streamed; shape (m,)."""
    from logicat.loss import sigmoid

    p = np.empty(source.m)
    for start, stop, X in source.chunks(chunk_rows):
        p[start:stop] = sigmoid(matvec(X, w) * SCALE + b)
    return p
