"""The cat / non-cat HDF5 data set: find it, download it, load and validate it.

Each file holds ``<prefix>_set_x`` uint8 (m, h, w, 3) RGB images with h == w (64 for the lesson's
files), ``<prefix>_set_y`` (m,) integer labels with 1 = cat, and ``list_classes`` (2,) byte
strings, ``[b'non-cat', b'cat']``: the class name of label 0, then of label 1.

Where the files are looked for, in order: the ``data_dir`` argument (when given it is the only
place, so that a typo fails loudly instead of loading other data), ``$LOGICAT_DATA``, then the
user cache ``$XDG_CACHE_HOME/logicat/catvnoncat`` (``~/.cache/logicat/catvnoncat``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from logicat.core.errors import DataFileError, LogicatError
from logicat.core.paths import not_regular
from logicat.core.validation import check_memory
from logicat.data.download import DEFAULT_TIMEOUT, fetch_verified

#: The largest image side a data file may declare (as ``logicat.data.images.MAX_SIZE``).
MAX_IMAGE_SIZE = 4096
TRAIN_FILE = "train_catvnoncat.h5"
TEST_FILE = "test_catvnoncat.h5"
#: SHA-256 digests of the published files; a download must match them to be kept.
SHA256 = {
    TRAIN_FILE: "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242",
    TEST_FILE: "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951",
}
#: their sizes in bytes: a download stops as soon as more arrive (a server that streams forever)
SIZES = {TRAIN_FILE: 2572022, TEST_FILE: 616958}
#: A public copy of the lesson's ``datasets/`` folder; override with ``$LOGICAT_DATA_URL``.
DEFAULT_BASE_URL = (
    "https://raw.githubusercontent.com/ramakris/coursera-deeplearning/master/datasets"
)


class CatData(NamedTuple):
    """The cat / non-cat set: ``train_x, train_y, test_x, test_y, classes = load_catvnoncat()``.

    train_x : uint8 ndarray of shape (209, 64, 64, 3), RGB
    train_y : int64 ndarray of shape (209,), 1 = cat, 0 = non-cat
    test_x : uint8 ndarray of shape (50, 64, 64, 3)
    test_y : int64 ndarray of shape (50,)
    classes : ``("non-cat", "cat")``, the name of label 0 then of label 1
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, str]


def cache_dir() -> Path:
    """The user cache folder for the data: ``$XDG_CACHE_HOME/logicat/catvnoncat``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "logicat" / "catvnoncat"


def _candidates(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    places = []
    if os.environ.get("LOGICAT_DATA"):
        places.append(Path(os.environ["LOGICAT_DATA"]).expanduser())
    places.append(cache_dir())
    return places


def find_catvnoncat(data_dir: str | os.PathLike[str] | None = None, download: bool = False) -> Path:
    """The folder holding both ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``.

    Looks in ``data_dir`` if given, else ``$LOGICAT_DATA`` then the user cache. When none has
    them and ``download`` is true, downloads them into the first of those places; otherwise
    raises ``DataFileError`` naming the places looked in and how to get the data.
    """
    places = _candidates(data_dir)
    for place in places:
        if (place / TRAIN_FILE).is_file() and (place / TEST_FILE).is_file():
            return place
    if download:
        return download_catvnoncat(dest=places[0])
    looked = ", ".join(str(p) for p in places)
    raise DataFileError(
        f"Cannot find {TRAIN_FILE} and {TEST_FILE}; looked in: {looked}. "
        "Run `logicat download` or set LOGICAT_DATA to the folder that holds them."
    )


def download_catvnoncat(
    base_url: str | None = None,
    dest: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download both files, verified against ``SHA256``, and return the folder holding them.

    base_url : folder URL holding the two files; default ``$LOGICAT_DATA_URL``, else
        ``DEFAULT_BASE_URL``.
    dest : destination folder; default the user cache (``cache_dir()``).

    Files already there with the right digest are not downloaded again. Raises ``DownloadError``
    (naming the URL and why) on HTTP errors, timeouts, short reads and digest mismatches.
    """
    base_url = base_url or os.environ.get("LOGICAT_DATA_URL") or DEFAULT_BASE_URL
    folder = Path(dest).expanduser() if dest is not None else cache_dir()
    for name, digest in SHA256.items():
        fetch_verified(f"{base_url.rstrip('/')}/{name}", folder / name, digest,
                       size=SIZES[name], timeout=timeout)
    return folder


def load_catvnoncat(
    data_dir: str | os.PathLike[str] | None = None, download: bool = False
) -> CatData:
    """Load the training and test sets (see ``CatData``), found as ``find_catvnoncat`` says."""
    folder = find_catvnoncat(data_dir, download=download)
    train_x, train_y, classes = load_h5_dataset(folder / TRAIN_FILE)
    test_x, test_y, test_classes = load_h5_dataset(folder / TEST_FILE)
    if test_classes != classes:
        raise DataFileError(
            f"{folder}: the training classes {classes} differ from the test classes {test_classes}"
        )
    if test_x.shape[1:] != train_x.shape[1:]:
        raise DataFileError(
            f"{folder}: training images are {train_x.shape[1:]} but test images are "
            f"{test_x.shape[1:]}"
        )
    return CatData(train_x, train_y, test_x, test_y, classes)


def load_h5_dataset(
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """Load and validate one HDF5 file of the cat-data layout.

    Returns
    -------
    x : uint8 ndarray of shape (m, size, size, 3), RGB
    y : int64 ndarray of shape (m,) of 0 and 1
    classes : (name of label 0, name of label 1), decoded from ``list_classes``

    Raises ``DataFileError`` with a one-line "{path}: {problem}" message when the file is
    missing, not HDF5, truncated, or not in the layout.
    """
    path = Path(path)
    with open_h5(path) as f:
        return _read_layout(path, f)


def open_h5_file(path: str | os.PathLike[str]) -> h5py.File:
    """The one way an HDF5 data file is opened: only a regular file (a FIFO named like one
    would block forever), read-only, HDF5's refusal as one line (``DataFileError``)."""
    path = Path(path)
    why = not_regular(path, "HDF5 file")
    if why is not None:
        raise DataFileError(f"{path}: {'no such file' if why.startswith('no such') else why}")
    with h5_errors(path):
        return h5py.File(path, "r")


@contextlib.contextmanager
def h5_errors(path: Path) -> Iterator[None]:
    """HDF5's errors while reading ``path`` (truncated data, a broken link, ...) as one line."""
    try:
        yield
    except LogicatError:  # ours, already one line (a ParameterError is a ValueError too)
        raise
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as err:
        # h5py reports a non-HDF5 or truncated file as OSError, with HDF5's wording.
        detail = " ".join(str(err).split()) or type(err).__name__
        if "file signature not found" in detail:
            problem = "not an HDF5 file"
        elif "truncated file" in detail:
            problem = f"truncated HDF5 file, {path.stat().st_size} bytes long ({detail})"
        else:
            problem = f"not a readable HDF5 file ({detail[:200]})"
        raise DataFileError(f"{path}: {problem}") from None


@contextlib.contextmanager
def open_h5(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """``open_h5_file`` for a ``with`` block, whose HDF5 errors become one line too."""
    path = Path(path)
    f = open_h5_file(path)
    try:
        with h5_errors(path):
            yield f
    finally:
        f.close()


class H5Layout(NamedTuple):
    """Where a file's images and labels are: ``f[x_name]`` (m, size, size, 3), ``f[y_name]``."""

    x_name: str
    y_name: str
    shape: tuple[int, ...]  # of the images: (m, size, size, 3)


def h5_layout(path: Path, f: h5py.File) -> H5Layout:
    """Find and check the datasets of the cat-data layout from the file's metadata alone.

    No pixel or label is read, so readers that stream the file (out-of-core training, torch
    Datasets, one shard per rank) validate it the same way as ``load_h5_dataset``; each reader
    checks the labels it reads (``check_labels``).
    """
    x_names = sorted(name for name in f if name.endswith("_set_x"))
    if len(x_names) != 1:
        found = ", ".join(sorted(f)) or "nothing"
        raise DataFileError(
            f"{path}: expected exactly one '<prefix>_set_x' dataset (found: {found})"
        )
    x_name = x_names[0]
    y_name = x_name[: -len("x")] + "y"
    x, y = stored_dataset(path, f, x_name), stored_dataset(path, f, y_name)
    if x.ndim == 4 and x.shape[1] > MAX_IMAGE_SIZE:
        raise DataFileError(f"{path}: dataset '{x_name}' declares {x.shape[1]}x{x.shape[2]} "
                            f"images; logicat reads images up to {MAX_IMAGE_SIZE}x"
                            f"{MAX_IMAGE_SIZE}")
    if x.dtype != np.uint8:
        raise DataFileError(f"{path}: dataset '{x_name}' must be uint8 pixels, got {x.dtype}")
    if x.ndim != 4 or x.shape[3] != 3:
        raise DataFileError(
            f"{path}: dataset '{x_name}' must have shape (m, size, size, 3), got {x.shape}"
        )
    if x.shape[1] != x.shape[2]:
        raise DataFileError(
            f"{path}: dataset '{x_name}' images must be square, got {x.shape[1]}x{x.shape[2]}"
        )
    if x.shape[0] == 0:
        raise DataFileError(f"{path}: dataset '{x_name}' holds no images")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataFileError(
            f"{path}: dataset '{y_name}' must be 1-D integer labels, "
            f"got {y.dtype} of shape {y.shape}"
        )
    if y.shape[0] != x.shape[0]:
        raise DataFileError(
            f"{path}: '{x_name}' has {x.shape[0]} images but '{y_name}' has {y.shape[0]} labels"
        )
    stored_dataset(path, f, "list_classes")
    return H5Layout(x_name, y_name, tuple(x.shape))


def check_labels(path: Path, y_name: str, y: np.ndarray) -> np.ndarray:
    """The labels as int64, or a DataFileError if any is not 0 or 1."""
    labels = np.unique(y)
    if not np.isin(labels, (0, 1)).all():
        raise DataFileError(f"{path}: dataset '{y_name}' has labels other than 0 and 1: {labels}")
    return y.astype(np.int64)


def stored_dataset(path: Path, f: h5py.File, name: str) -> h5py.Dataset:
    """``f[name]``: a dataset whose data is stored in this file, as much of it as it declares.

    Links (soft links can loop; external links and external or virtual storage read other
    files, anywhere on the machine) are refused, and so is an uncompressed dataset that stores
    fewer bytes than its shape declares (truncated, or a 2 KB file that claims 2^31 rows).
    """
    link = f.get(name, getlink=True)
    if link is None:
        raise DataFileError(f"{path}: no dataset '{name}' (found: {', '.join(sorted(f))})")
    if not isinstance(link, h5py.HardLink):
        kind = "an external" if isinstance(link, h5py.ExternalLink) else "a soft"
        raise DataFileError(f"{path}: '{name}' is {kind} link; logicat reads only datasets "
                            "stored in the file itself")
    if not isinstance(f[name], h5py.Dataset):
        raise DataFileError(f"{path}: '{name}' is a group, not a dataset")
    ds = f[name]
    if ds.external or ds.is_virtual:
        raise DataFileError(f"{path}: dataset '{name}' keeps its data in other files; logicat "
                            "reads only data stored in the file itself")
    stored, declared = ds.id.get_storage_size(), ds.size * ds.dtype.itemsize
    if ds.id.get_create_plist().get_nfilters() == 0 and stored < declared:
        raise DataFileError(f"{path}: dataset '{name}' declares shape {ds.shape} "
                            f"({declared} bytes) but stores {stored} bytes")
    return ds


def _read_layout(path: Path, f: h5py.File) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    x_name, y_name, shape = h5_layout(path, f)
    # read whole: the images (m, s, s, 3) uint8 and the labels, twice (as stored, as int64)
    check_memory(int(np.prod(shape)) + shape[0] * (f[y_name].dtype.itemsize + 8),
                 f"{path}: reading its {shape[0]} images of {shape[1]}x{shape[2]}",
                 DataFileError)
    y = check_labels(path, y_name, f[y_name][()])
    return f[x_name][()], y, class_names(path, f["list_classes"][()])


def class_names(path: Path, raw: np.ndarray) -> tuple[str, str]:
    """The two names of ``list_classes`` (label 0, label 1), decoded."""
    if raw.ndim != 1 or len(raw) != 2:
        raise DataFileError(
            f"{path}: dataset 'list_classes' must hold 2 class names, got shape {raw.shape}"
        )
    names = []
    for item in raw:
        if isinstance(item, bytes):
            item = item.decode("utf-8", errors="replace")
        if not isinstance(item, str):
            raise DataFileError(
                f"{path}: dataset 'list_classes' must hold strings, got {raw.dtype}"
            )
        names.append(item.strip())
    return names[0], names[1]
