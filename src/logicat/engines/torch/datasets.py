"""``torch.utils.data.Dataset``\\ s over the cat data: HDF5 files and folders of images.

Both read images lazily - one item at a time, when a ``DataLoader`` asks - and hand out raw
uint8 pixels, flattened in the order of ``images_to_features`` (row, column, channel); the
training loop turns a batch into floats (/ 255) on its device. Item i is ``(pixels (n,) uint8
tensor, label int64 tensor)``; ``classes`` is (name of label 0, name of label 1) and
``n_features`` is n.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from logicat.core.errors import ParameterError
from logicat.data.catvnoncat import check_labels, class_names, h5_layout, open_h5


class H5CatDataset(Dataset):
    """The images of one HDF5 file in the cat-data layout (``<prefix>_set_x``, ``_set_y``,
    ``list_classes``), rows [start, stop) of it.

    The labels of those rows are read at once (m integers); the images are read one by one.
    Each process - the main one and every ``DataLoader`` worker - opens its own h5py handle on
    first use (h5py handles must not cross a fork). ``read()`` gets all rows of the range in one
    slice: a rank's shard under data parallelism.
    """

    def __init__(self, path: str | os.PathLike[str], start: int = 0, stop: int | None = None):
        self.path = Path(path)
        with open_h5(self.path) as f:
            self._x_name, y_name, shape = h5_layout(self.path, f)
            m = shape[0]
            stop = m if stop is None else stop
            if not 0 <= start <= stop <= m:
                raise ParameterError(
                    f"rows [{start}, {stop}) are not within the {m} images of {self.path}."
                )
            self.labels = f[y_name][start:stop].astype(np.int64)
            self.classes = class_names(self.path, f["list_classes"][()])
        self.labels = check_labels(self.path, y_name, self.labels)
        self.start, self.stop = start, stop
        self.image_shape = tuple(shape[1:])
        self.n_features = int(np.prod(self.image_shape))
        self._file: h5py.File | None = None
        self._pid = -1

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} is out of range for {len(self)} images")
        pixels = self._images()[self.start + i]  # (size, size, 3) uint8
        return torch.from_numpy(pixels.reshape(-1)), torch.tensor(self.labels[i])

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """All images (k, size, size, 3) uint8 and labels (k,) of rows [start, stop), one slice."""
        return self._images()[self.start : self.stop], self.labels.copy()

    def _images(self) -> h5py.Dataset:
        if self._file is None or self._pid != os.getpid():
            self._file = h5py.File(self.path, "r")  # this process's own handle
            self._pid = os.getpid()
        return self._file[self._x_name]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_file"], state["_pid"] = None, -1  # workers open their own
        return state

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None


def h5_rows(path: str | os.PathLike[str]) -> int:
    """The number of images in a cat-layout HDF5 file, from its metadata (no data is read)."""
    path = Path(path)
    with open_h5(path) as f:
        return h5_layout(path, f)[2][0]


class ImageFolderDataset(Dataset):
    """The images under ``root/<class>/...`` (see ``logicat.data.list_image_folder``): label 1
    in ``root/<positive>``, 0 elsewhere; each decoded and resized to ``size`` x ``size`` by
    ``logicat.data.load_image`` when it is asked for. An unreadable file raises
    ``ImageLoadError`` naming it.
    """

    def __init__(self, root: str | os.PathLike[str], positive: str = "cat", size: int = 64):
        from logicat.data import list_image_folder

        self.samples, self.classes = list_image_folder(root, positive)
        self.size = int(size)
        self.n_features = self.size * self.size * 3
        self.labels = np.array([label for _, label in self.samples], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from logicat.data import load_image

        path, label = self.samples[i]
        pixels = load_image(path, self.size)  # (size, size, 3) uint8
        return torch.from_numpy(np.ascontiguousarray(pixels).reshape(-1)), torch.tensor(label)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
