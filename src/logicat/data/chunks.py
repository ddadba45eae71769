r"""HDF5 files of the cat-data layout read in chunks of rows, with bounded memory.

The file has the cat-data layout (``<prefix>_set_x`` uint8 (m, size, size, 3), ``<prefix>_set_y``
(m,), ``list_classes``), as ``logicat pack`` writes it. ``H5Images`` validates the layout from the
metadata alone (``logicat.data.catvnoncat.h5_layout``), holds the labels (m integers) and reads
the images as uint8 rows (k, n) a chunk at a time; a background thread reads the next chunk
while the caller works on this one (two preallocated buffers), so peak memory is a few chunks,
independent of m. Out-of-core training (``logicat.training.batches.FileRows``) and prediction
read through it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import h5py
import numpy as np

from logicat.core.errors import DataFileError, ParameterError
from logicat.core.validation import check_memory
from logicat.data.catvnoncat import check_labels, class_names, h5_errors, h5_layout, open_h5_file

#: Default rows per chunk: 512 images of 64x64x3 = 6 MiB of uint8.
CHUNK_ROWS = 512


class H5Images:
    """An HDF5 file of the cat-data layout, read in row chunks without loading it.

    Attributes: ``path``, ``m`` (images), ``n`` (features per image), ``image_size``, ``classes``
    (name of label 0, name of label 1), ``y`` (all labels, int64 (m,): small enough to hold).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = open_h5_file(self.path)
        try:
            with h5_errors(self.path):
                self._read_layout(self._file)
        except BaseException:
            self._file.close()
            raise

    def _read_layout(self, f: h5py.File) -> None:
        x_name, y_name, shape = h5_layout(self.path, f)
        # the labels are held (as stored, then as int64); the images are streamed
        check_memory(shape[0] * (f[y_name].dtype.itemsize + 8),
                     f"{self.path}: holding the labels of its {shape[0]} images", DataFileError)
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
        rows = min(rows, self.m)  # a chunk is never larger than the file
        check_memory(2 * rows * self.n, f"reading {self.path} in chunks of {rows} rows",
                     ParameterError)
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
