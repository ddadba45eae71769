"""One fit of an image network - the ConvNet, or any list of layers (``NetworkClassifier``):
hyperparameters and images -> the one loop -> a ``Fit``.

The same loop as every other model (``logicat.training.loop``: the schedule, the cost history,
the divergence rule, early stopping on a held-out part, callbacks, checkpoints and exact
resumption), run by ``training.image_solver.ConvNetSolver`` one epoch per iteration;
``ConvNetClassifier.fit`` and ``logicat train --model convnet`` both come here. The images come
from memory (uint8 (m, s, s, 3), or [0, 1] floats) or from a packed HDF5 file
(``logicat.data.chunks.H5Images``, as ``logicat pack`` writes it), whose rows are read a
mini-batch at a time and never loaded whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError, ShapeError
from logicat.core.validation import check_memory
from logicat.io.files import Snapshot
from logicat.nn.bounds import training_bytes
from logicat.nn.convnet import layers, spec_of
from logicat.nn.output import training_prior
from logicat.training.hyperparameters import CONVNET_CONSTRAINTS as CONSTRAINTS
from logicat.training.hyperparameters import data_fingerprint
from logicat.training.labels import held_out
from logicat.training.setup import Setup

__all__ = ["CONSTRAINTS", "as_images", "examples", "image_source", "prepare"]

#: The name of the ConvNet's solver in model files: torch.optim steps on augmented mini-batches.
SOLVER = "minibatch"


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


# ------------------------------------------------------------------ where the images come from
class _Images:
    """What the fit asks of every image source."""

    noun = "images"
    weight_dtype = np.float64

    def fingerprint(self, y01: np.ndarray, weights: np.ndarray | None) -> str:
        """The run's data, for a checkpoint: the images' digest, the labels and weights."""
        return data_fingerprint(y01.astype(np.int64), weights, head=self.digest())


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


# ------------------------------------------------------------------------- the preparation
def examples(images: Any, params: Mapping[str, Any], chunk_rows: int = 0
             ) -> InMemoryImages | FileImages:
    """Where the images come from (``image_source``), checked against the recipe."""
    source = image_source(images)
    if params["crop"] == "pad" and int(params["crop_pad"]) >= source.image_size:
        raise ParameterError(f"The 'crop_pad' parameter must be smaller than the images' side "
                             f"(their border is reflected): {source.image_size}x"
                             f"{source.image_size} images take at most "
                             f"{source.image_size - 1}. Got {params['crop_pad']} instead.")
    if params.get("average") and params["early_stopping"]:
        raise ParameterError("The 'average' parameter averages the weights over the run, and "
                             "early stopping keeps one epoch's: choose one.")
    return source


def prepare(params: Mapping[str, Any], source: InMemoryImages | FileImages, y01: np.ndarray,
            weights: np.ndarray | None, *, resume: Snapshot | None = None,
            distributed: bool = False, **_: Any) -> Setup:
    """The image network of ``params`` on ``source``, ready for the loop: the rows held out
    for early stopping, the memory it needs, the device, and ``ConvNetSolver`` with its
    batches and the run's generator. ``distributed``: train data-parallel in the
    ``torch.distributed`` group this process is in (every process calls the fit with the same
    arguments; each trains on its share of each batch, the gradients and batch-norm statistics
    summed over all)."""
    from logicat.engines.torch import require_torch

    require_torch()
    import torch

    from logicat.training.image_solver import ConvNetSolver
    from logicat.training.torch_solver import resolve_device

    spec = spec_of(params, source.image_size)
    train, val = held_out(y01, params, np.random.default_rng(params["random_state"]), resume)
    if train is None:
        train = np.arange(source.m)
    size = spec.image_size
    # before anything is allocated: training the layers in float32, a batch at a time
    rows = int(params["batch_size"])
    check_memory(training_bytes(layers(spec), (3, size, size), np.float32, rows),
                 f"the {spec.description} in steps of {rows} examples", ParameterError)
    device = resolve_device(params["device"])
    if distributed:
        import torch.distributed as torch_dist

        if torch.cuda.is_available() and device.type == "cuda":
            device = torch.device("cuda", torch.cuda.current_device())
        if not torch_dist.is_initialized():
            raise ParameterError("distributed=True needs a torch.distributed process group "
                                 "(logicat train --nproc N starts one).")
    solver = ConvNetSolver(spec, source, y01, train, dict(params), device, weights,
                           distributed=distributed)
    validation = None if val is None else (lambda params: solver.validation_cost(val))
    return Setup(solver, solver.batches, solver.draws, SOLVER, spec.layers(), (3, size, size),
                 validation=validation, held_out=val, tta=spec.tta,
                 training_prior=training_prior(y01[train], None if weights is None
                                               else weights[train]),
                 scheduled=True)
