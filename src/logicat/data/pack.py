"""An image folder (ImageFolder layout) -> one HDF5 file in the cat-data layout.

    root/cat/*.jpg, root/<other classes>/*.jpg  ->  OUT.h5 with
    train_set_x  uint8 (m, size, size, 3), chunked by ``chunk_images`` images
    train_set_y  int64 (m,), 1 = the positive class
    list_classes (negative name, positive name) as bytes

the layout ``logicat.data.load_h5_dataset`` and ``logicat train --train-file`` read. Files are
listed by ``logicat.data.list_image_folder`` (sorted by class folder, then path) and decoded by
worker processes (``logicat.data.decode``: JPEG draft mode, LANCZOS resize); images are written
in that order as they arrive, so memory stays bounded. Unreadable images are skipped and
reported (``PackResult.skipped``), never fatal. The file is written through
``logicat.core.paths.atomic_output`` and renamed at the end: an interrupted run leaves no half-
written OUT.h5.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from logicat.core.errors import DataFileError
from logicat.core.paths import atomic_output, check_outputs
from logicat.data.decode import BATCH, iter_decoded
from logicat.data.folders import list_image_folder

#: Images per HDF5 chunk (256 images of 64x64x3 = 3 MiB).
CHUNK_IMAGES = 256


@dataclass
class PackResult:
    path: Path
    n_images: int
    classes: tuple[str, str]
    n_positive: int
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the listing's row of each image written


def pack_image_folder(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int = 64,
    positive: str = "cat",
    workers: int | None = None,
    chunk_images: int = CHUNK_IMAGES,
    progress: Callable[[int], object] | None = None,
    listing: tuple[list[tuple[Path, int]], tuple[str, str]] | None = None,
) -> PackResult:
    """Decode every image under ``root`` and write them to ``out`` (see the module docstring).

    ``progress(k)`` is called after each batch with the number of files it handled.
    ``listing``: ``list_image_folder(root, positive)`` when the caller has it (the folder cache
    records which of its rows each image came from, ``PackResult.rows``).
    Raises ``DataFileError`` if the folder has no usable layout or no image could be read.
    """
    samples, classes = listing if listing is not None else list_image_folder(root, positive)
    out = Path(out)
    paths = [path for path, _ in samples]
    check_outputs({"OUT": out}, [("an input image", p) for p in paths])
    label_of = {path: label for path, label in samples}
    row_of = {path: i for i, path in enumerate(paths)}
    rows: list[int] = []
    m_max = len(paths)
    skipped: list[tuple[Path, str]] = []
    with atomic_output(out, "HDF5") as tmp:
        _reserve(tmp, out, m_max, size, min(chunk_images, m_max))
        with h5py.File(tmp, "r+") as f:
            shape = (size, size, 3)
            x = f.create_dataset("train_set_x", shape=(m_max, *shape), maxshape=(None, *shape),
                                 dtype=np.uint8, chunks=(min(chunk_images, m_max), *shape))
            y = f.create_dataset("train_set_y", shape=(m_max,), maxshape=(None,),
                                 dtype=np.int64, chunks=(min(chunk_images * 16, m_max),))
            f.create_dataset("list_classes", data=np.array([c.encode() for c in classes]))
            written = n_positive = 0
            for images, ok_paths, failures in iter_decoded(paths, size, workers=workers,
                                                           batch=BATCH):
                k = len(ok_paths)
                if k:
                    labels = np.array([label_of[p] for p in ok_paths], dtype=np.int64)
                    x[written:written + k] = images
                    y[written:written + k] = labels
                    written += k
                    n_positive += int(labels.sum())
                    rows += [row_of[p] for p in ok_paths]
                skipped += failures
                if progress is not None:
                    progress(k + len(failures))
            if written == 0:
                raise DataFileError(f"{root}: none of the {m_max} image files could be read")
            x.resize(written, axis=0)
            y.resize(written, axis=0)
    return PackResult(out, written, classes, n_positive, skipped, rows)


def _reserve(tmp: Path, out: Path, m: int, size: int, chunk: int) -> None:
    """Reserve on disk, before decoding anything, the room the file can take: at most m images
    of size x size x 3 bytes and m int64 labels, in whole chunks, plus 1 MiB of HDF5's own.

    HDF5 cannot fail cleanly on a full disk: its close then fails half-way, and h5py crashes
    the process at exit. With the room reserved its writes cannot run out of space, a full
    disk is one OSError (ENOSPC) here, and HDF5 trims the file to what it used when it closes.
    """
    with h5py.File(tmp, "w"):  # an empty HDF5 file, reopened r+ by the caller ("w" truncates)
        pass
    need = (m + chunk) * size * size * 3 + (m + 16 * chunk) * 8 + (1 << 20)
    fd = os.open(tmp, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, need)
    except OSError as err:
        raise OSError(err.errno, f"{err.strerror} (packing {m} images of {size}x{size} needs "
                      f"up to {need} bytes)", str(out)) from None
    finally:
        os.close(fd)
