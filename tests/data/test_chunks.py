"""``H5Images``: a cat-data HDF5 file read in chunks of rows, in bounded memory, with one-line
errors for what is no such file."""

from __future__ import annotations

import tracemalloc

import h5py
import numpy as np
import pytest

from logicat.core.errors import DataFileError
from logicat.data.chunks import H5Images
from tests.conftest import write_h5
from tests.training.test_batches import stream


def test_memory_stays_bounded_by_the_chunk_size(tmp_path, rng):
    """4000 images (49 MB as uint8): NumPy allocations during training stay near 2 chunks."""
    x = rng.integers(0, 256, size=(4000, 64, 64, 3), dtype=np.uint8)
    y = rng.integers(0, 2, size=4000)
    path = write_h5(tmp_path / "big.h5", x, y, chunk=100)
    del x
    with H5Images(path) as source:
        stream(source, max_iter=1, chunk_rows=100)  # first-call imports and caches are not data
        tracemalloc.start()
        stream(source, max_iter=1, chunk_rows=100)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    chunk_bytes = 100 * 12288
    assert peak < 8 * chunk_bytes, peak  # 49 MB of data, < 10 MB at the peak


def test_bad_files_give_one_line_errors(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        H5Images(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(DataFileError, match="not an HDF5 file"):
        H5Images(tmp_path / "text.h5")
    with h5py.File(tmp_path / "floats.h5", "w") as f:
        f.create_dataset("train_set_x", data=np.zeros((2, 4, 4, 3)))
        f.create_dataset("train_set_y", data=np.zeros(2))
    with pytest.raises(DataFileError, match="must be uint8"):
        H5Images(tmp_path / "floats.h5")
