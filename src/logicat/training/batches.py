"""Where a solver's examples come from: arrays in memory, or an HDF5 file read in chunks.

Both give the loop (``logicat.training.loop``) one epoch's batches for the primal solver:
``epoch(rng)``, the objective over all m examples (full-batch gradient descent, without
``batch_size``) or the objectives of the epoch's mini-batches, with their sizes, cut in an
order the run's generator ``rng`` draws. The objectives come from
``logicat.training.objectives.make_objective``, with the L2 term scaled by the whole set's
weight S in every batch (see ``logicat.nn.loss``).

- ``InMemory``: X (m, n), y (m,), optional sample weights; each epoch shuffles the m examples
  (``rng.permutation``) and cuts them into consecutive batches.
- ``FileRows``: ``logicat.data.chunks.H5Images`` (uint8 pixels, the 1/255 folded into the
  arithmetic); the full objective streams the file once per call, and an epoch visits blocks of
  ``chunk_rows`` consecutive rows in a random order, shuffling the rows inside each block (a
  block shuffle, as a shuffle buffer does: contiguous reads stay fast on disk).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from logicat.nn.loss import l2_penalty
from logicat.training.objectives import Objective, make_objective

#: Rows per chunk read from a file: 512 images of 64x64x3 = 6 MiB of uint8.
CHUNK_ROWS = 512
SCALE = 1.0 / 255.0


class InMemory:
    """The training examples as arrays: X (m, n), y (m,) in {0, 1} in X's dtype, s (m,) or None.

    batch_size : examples per mini-batch; None (or >= m) is full-batch gradient descent
    shuffle : reshuffle the examples every epoch (mini-batches only)
    ``options`` are ``make_objective``'s (engine, loss, n_layers, activation, alpha).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
                 *, batch_size: int | None = None, shuffle: bool = True, **options) -> None:
        self.X, self.y, self.s = X, y, sample_weight
        self.m = X.shape[0]
        self.batch_size = None if batch_size is None or batch_size >= self.m else batch_size
        self.shuffle = shuffle
        self.total = float(sample_weight.sum()) if sample_weight is not None else float(self.m)
        self.options = options
        self._full: Objective | None = None

    def full(self) -> Objective:
        if self._full is None:
            self._full = make_objective(X=self.X, y=self.y, sample_weight=self.s,
                                        total_weight=self.total, **self.options)
        return self._full

    def epoch(self, rng: np.random.Generator) -> Iterator[tuple[Objective, int]]:
        if self.batch_size is None:
            yield self.full(), self.m
            return
        yield from self.batches(rng, self.batch_size, self.shuffle)

    def batches(self, rng: np.random.Generator, batch_size: int, shuffle: bool
                ) -> Iterator[tuple[Objective, int]]:
        order = rng.permutation(self.m) if shuffle else np.arange(self.m)
        for begin in range(0, self.m, batch_size):
            idx = order[begin:begin + batch_size]  # (k,) the examples of this mini-batch
            s = None if self.s is None else self.s[idx]
            yield make_objective(X=self.X[idx], y=self.y[idx], sample_weight=s,
                                 total_weight=self.total, compress=False, **self.options), len(idx)


class FileRows:
    """The training examples of an HDF5 file (``H5Images``), read a chunk at a time.

    dtype : the training dtype (of the parameters and the arithmetic)
    batch_size, shuffle : as ``InMemory``'s (a block shuffle)
    """

    def __init__(self, source, dtype, *, chunk_rows: int = CHUNK_ROWS,
                 batch_size: int | None = None, shuffle: bool = True, **options) -> None:
        self.source = source
        self.m = source.m
        self.batch_size = None if batch_size is None or batch_size >= self.m else batch_size
        self.shuffle = shuffle
        self.y = source.y.astype(dtype)
        self.chunk_rows = chunk_rows
        self.alpha = options.pop("alpha", 0.0)
        self.options = options

    def _objective(self, X: np.ndarray, y: np.ndarray, alpha: float = 0.0) -> Objective:
        return make_objective(X=X, y=y, scale=SCALE, alpha=alpha, total_weight=float(self.m),
                              compress=False, **self.options)

    def full(self) -> Objective:
        """J over the whole file: each chunk's mean, weighted by its rows, then the L2 term."""
        def objective(params: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            cost, grads = 0.0, [np.zeros_like(p) for p in params]
            for start, stop, X in self.source.chunks(self.chunk_rows):
                c, g = self._objective(X, self.y[start:stop])(params)
                k = stop - start
                cost += c * k
                for total, part in zip(grads, g, strict=True):
                    total += part * total.dtype.type(k)
            cost /= self.m
            for g in grads:
                g /= g.dtype.type(self.m)
            if self.alpha:
                penalty, extra = l2_penalty(params[0::2], self.alpha, float(self.m))
                cost += penalty
                for k, dW in enumerate(extra):
                    grads[2 * k] += dW
            return cost, grads

        return objective

    def epoch(self, rng: np.random.Generator) -> Iterator[tuple[Objective, int]]:
        if self.batch_size is None:
            yield self.full(), self.m
            return
        yield from self.batches(rng, self.batch_size, self.shuffle)

    def batches(self, rng: np.random.Generator, batch_size: int, shuffle: bool
                ) -> Iterator[tuple[Objective, int]]:
        n_blocks = math.ceil(self.m / self.chunk_rows)
        order = rng.permutation(n_blocks) if shuffle else None
        carry_X = carry_y = None
        for start, stop, X in self.source.chunks(self.chunk_rows, order):
            rows = rng.permutation(stop - start) if shuffle else np.arange(stop - start)
            Xb, yb = X[rows], self.y[start:stop][rows]  # copies: the chunk buffer is reused
            if carry_X is not None:  # rows left over from the previous block
                Xb, yb = np.concatenate([carry_X, Xb]), np.concatenate([carry_y, yb])
            k_full = len(yb) // batch_size * batch_size
            for i in range(0, k_full, batch_size):
                yield self._objective(Xb[i:i + batch_size], yb[i:i + batch_size],
                                      self.alpha), batch_size
            carry_X, carry_y = (Xb[k_full:], yb[k_full:]) if k_full < len(yb) else (None, None)
        if carry_X is not None:  # the last, smaller mini-batch of the epoch
            yield self._objective(carry_X, carry_y, self.alpha), len(carry_y)
