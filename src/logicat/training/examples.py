"""Where a fit's examples come from: the one representation of the data every fit takes.

Features (m, n) or images (m, s, s, 3) in memory, or the images of a packed HDF5 file
(``logicat.data.chunks.H5Images``, as ``logicat pack`` writes it; ``RowsOf`` some of its rows),
read a chunk or a mini-batch at a time and never loaded whole. Every source says what the one
fit (``logicat.training.fit``) asks of it:

    m, name, noun      how many examples; what a message about their labels names, and calls
                       them ("examples", "images")
    n_features         the values of one example (3 s^2 for images)
    weight_dtype       the dtype of their weights
    fingerprint(y, w)  the run's data for a checkpoint: a resumed run must train on the same

and what its model's preparation reads: a model of features ``X`` (``Features``), the file's
rows as features (``FileFeatures``, ``training.batches.FileRows``) or a torch ``Dataset``'s
items (``DatasetFeatures``, PyTorch's ``DataLoader``); an image network
``rows(idx)`` and ``channel_stats()`` (``InMemoryImages``, ``FileImages``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logicat.core.errors import ShapeError
from logicat.training.batches import CHUNK_ROWS
from logicat.training.hyperparameters import data_fingerprint


def labelled(digest: str, y01: np.ndarray, weights: np.ndarray | None) -> str:
    """A source's fingerprint from its examples' ``digest``, their labels and weights."""
    return data_fingerprint(y01.astype(np.int64), weights, head=digest)


# ------------------------------------------------------------------------------- features
class Features:
    """Features in memory: X (m, n) float (C-contiguous, the training dtype)."""

    noun = "examples"

    def __init__(self, X: np.ndarray) -> None:
        self.X = np.ascontiguousarray(X)
        self.m, self.n_features = self.X.shape
        self.dtype = self.weight_dtype = self.X.dtype
        self.name = "y"

    def fingerprint(self, y01: np.ndarray, weights: np.ndarray | None) -> str:
        return data_fingerprint(self.X, y01.astype(self.dtype), weights)


class FileFeatures:
    """The rows of a packed HDF5 file (``logicat.data.chunks.H5Images``) as features, streamed
    in chunks of ``chunk_rows``: memory holds a chunk, not the file."""

    noun = "images"

    def __init__(self, source, dtype: Any, chunk_rows: int = CHUNK_ROWS) -> None:
        self.source, self.chunk_rows = source, chunk_rows
        self.m, self.n_features = source.m, source.n
        self.dtype = self.weight_dtype = np.dtype(dtype)
        self.name = str(source.path)

    def fingerprint(self, y01: np.ndarray, weights: np.ndarray | None) -> str:
        from logicat.data import file_sha256

        return labelled(file_sha256(self.source.path), y01, weights)


class DatasetFeatures:
    """A ``torch.utils.data.Dataset`` of (uint8 pixels (n,), label) items with ``labels`` and
    ``n_features`` (``engines.torch.H5CatDataset``, ``ImageFolderDataset``), read lazily by
    PyTorch's ``DataLoader`` - in ``num_workers`` processes - as the PyTorch tutorials read
    their data; the pixels become features (/ 255, ``dtype``) a batch at a time."""

    noun = "images"

    def __init__(self, dataset, dtype: Any = "float64", num_workers: int = 0) -> None:
        self.dataset, self.num_workers = dataset, int(num_workers)
        self.m, self.n_features = len(dataset), int(dataset.n_features)
        self.dtype = self.weight_dtype = np.dtype(dtype)
        self.name = str(getattr(dataset, "path", None) or getattr(dataset, "root", None)
                        or type(dataset).__name__)

    def fingerprint(self, y01: np.ndarray, weights: np.ndarray | None) -> str:
        """Every item's pixels, read once (only when a checkpoint is written)."""
        import hashlib

        digest = hashlib.sha256()
        for i in range(self.m):
            digest.update(np.asarray(self.dataset[i][0]).tobytes())
        return labelled(digest.hexdigest(), y01, weights)


# ------------------------------------------------------------------------------- images
def as_images(X: Any, name: str = "X") -> np.ndarray:
    """uint8 images (m, s, s, 3) as they are, or floats in [0, 1] (pixel / 255) of that shape or
    as the lesson's features (m, s*s*3), folded back into (m, s, s, 3); anything else is a
    ``TypeError`` (the dtype) or ``ValueError`` (the values) naming ``name``, before any work,
    as scikit-learn's estimators refuse what they cannot use."""
    X = np.asarray(X)
    images = None
    if X.ndim == 4 and X.shape[3] == 3 and X.shape[1] == X.shape[2] and X.shape[1] > 0:
        images = X
    elif X.ndim == 2:
        side = round((X.shape[1] / 3) ** 0.5)
        if 3 * side * side == X.shape[1] and side > 0:
            images = X.reshape(len(X), side, side, 3)
    if images is None:
        raise ShapeError(f"{name}: the ConvNet takes images of shape (m, s, s, 3) or the "
                         f"lesson's features of shape (m, s * s * 3). Got shape {X.shape} "
                         "instead.")
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind != "f":
        raise TypeError(f"{name} must be uint8 images (pixels 0..255) or floats in [0, 1] "
                        f"(pixel / 255). Got dtype {images.dtype} instead.")
    if images.size:
        if not np.all(np.isfinite(images)):
            raise ValueError(f"{name} must hold finite numbers. Got NaN or infinity.")
        low, high = float(images.min()), float(images.max())
        if low < 0 or high > 1:
            raise ValueError(f"{name} must hold floats in [0, 1] (pixel / 255; or pass uint8 "
                             f"pixels as they are). Got values in [{low:.6g}, {high:.6g}] "
                             "instead.")
    return images


class _Images:
    """What the fit asks of every image source."""

    noun = "images"
    weight_dtype = np.float64

    def fingerprint(self, y01: np.ndarray, weights: np.ndarray | None) -> str:
        """The run's data, for a checkpoint: the images' digest, the labels and weights."""
        return labelled(self.digest(), y01, weights)


class InMemoryImages(_Images):
    """Images held in memory: uint8 (m, s, s, 3) or [0, 1] floats of that shape."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.m, self.image_size = len(images), int(images.shape[1])
        self.name = "y"  # what a message about the labels names
        self.n_features = 3 * self.image_size ** 2

    def rows(self, idx: np.ndarray) -> np.ndarray:
        return self.images[idx]

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-channel mean and (unbiased) standard deviation of the images in [0, 1],
        reduced by torch in float32 over the whole set at once."""
        from logicat.engines.torch.layers import images_to_tensor

        x = images_to_tensor(self.images)  # (m, 3, s, s) float32
        return x.mean(dim=(0, 2, 3)).numpy(), x.std(dim=(0, 2, 3)).numpy()

    def digest(self) -> str:
        return data_fingerprint(self.images)


class FileImages(_Images):
    """The images of a packed HDF5 file (``H5Images``), or some of its rows (``rows``): each
    mini-batch's rows are read when it is trained on (in file order), so memory holds one batch,
    not the file."""

    def __init__(self, source, rows: np.ndarray | None = None) -> None:
        self.source = source
        self.subset = None if rows is None else np.asarray(rows, np.int64)
        self.m = source.m if rows is None else len(self.subset)
        self.image_size = source.image_size
        self.name = str(source.path)
        self.n_features = 3 * self.image_size ** 2
        self._shape = (source.image_size, source.image_size, 3)

    def rows(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx) if self.subset is None else self.subset[np.asarray(idx)]
        # one simple slice per row: h5py's point selection (x[sorted idx]) is ~100x slower
        out = np.empty((len(idx), *self._shape), np.uint8)
        for k in np.argsort(idx, kind="stable"):  # in file order
            out[k] = self.source.x[int(idx[k])]
        return out

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """As ``InMemoryImages.channel_stats``, streamed in chunks and summed in float64."""
        total = np.zeros(3)
        squares = np.zeros(3)
        for start, stop, chunk in self.source.chunks(512):
            if self.subset is not None:
                chunk = chunk[self.subset[(self.subset >= start) & (self.subset < stop)] - start]
            x = chunk.reshape(-1, 3).astype(np.float64) / 255.0
            total += x.sum(axis=0)
            squares += (x * x).sum(axis=0)
        count = self.m * self.image_size ** 2
        mean = total / count
        var = np.maximum(squares - count * mean * mean, 0.0) / max(count - 1, 1)
        return mean.astype(np.float32), np.sqrt(var).astype(np.float32)

    def digest(self) -> str:
        from logicat.data import file_sha256

        digest = file_sha256(self.source.path)
        return digest if self.subset is None else data_fingerprint(self.subset, head=digest)


class RowsOf:
    """Some rows of a packed file (``H5Images``), to train on those only (an ensemble's
    member): ``fit(params, RowsOf(source, rows), y[rows])``."""

    def __init__(self, source, rows: np.ndarray) -> None:
        self.source, self.rows = source, np.asarray(rows, np.int64)


def image_source(images: Any) -> InMemoryImages | FileImages:
    """What an image network trains on: a packed file (``H5Images``), some of its rows
    (``RowsOf``) or images in memory."""
    if isinstance(images, RowsOf):
        return FileImages(images.source, images.rows)
    if hasattr(images, "chunks") and hasattr(images, "x"):
        return FileImages(images)
    return InMemoryImages(as_images(images))
