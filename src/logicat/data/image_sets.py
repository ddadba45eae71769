"""Your own photos as a training set and a held-out test set, decoded once.

``from_folders("photos/")`` is what ``logicat train --images photos/`` trains on: the images of
``photos/<class>/...`` (``logicat.data.folders``: the positive class by name, every other class
folder label 0), split into a stratified, seeded training part and a held-out test part
(``test_fraction`` of each class), or tested on a second folder (``test_images``). Its
accuracies are the user's: measured on their held-out photos, never on the cat data.

Decoding and resizing happen once per folder: the decoded images are packed
(``logicat.data.pack``) into a cache file, ``$XDG_CACHE_HOME/logicat/folders/<key>.h5``, whose
key is the SHA-256 of the folder's listing - each image file's path, size and modification
time - with the image size and the positive class. A second run on the same folder reads that
file; adding, removing or editing a photo makes a new key (old files are not removed: delete
the folder to reclaim the space).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from logicat.core.errors import ParameterError
from logicat.data.catvnoncat import CatData, cache_dir, load_h5_dataset
from logicat.data.folders import list_image_folder
from logicat.data.splits import held_out_rows

#: bump when what a cache file holds changes, so old ones are not read
CACHE_VERSION = 2


class ImageSet(NamedTuple):
    """What training reads: the data (as the cat data's ``CatData``) and what to call it."""

    data: CatData
    train_name: str  # "photos/"
    test_name: str  # "13 held-out images of photos/"
    training_data: dict[str, Any]  # the model file's record of it


def folder_key(root: str | os.PathLike[str], positive: str, size: int) -> str:
    """The SHA-256 of what the decoded images depend on: every image file's path (relative to
    ``root``), size and modification time, the positive class, the image size."""
    return _key(root, list_image_folder(root, positive)[0], positive, size)


def _key(root, samples, positive: str, size: int) -> str:
    root = Path(root)
    listing = []
    for path, label in samples:
        try:
            info = os.stat(path)
            state = [info.st_size, info.st_mtime_ns] if stat.S_ISREG(info.st_mode) else None
        except OSError:  # a dangling link, a loop: decoding skips it, saying why
            state = None
        listing.append([os.fsencode(Path(path).relative_to(root)).hex(), label, state])
    text = json.dumps([CACHE_VERSION, positive, size, listing])
    return hashlib.sha256(text.encode()).hexdigest()


def packed(root: str | os.PathLike[str], positive: str = "cat", size: int = 64,
           *, show=None, on_skip=None) -> tuple[Path, str, bool]:
    """(the cache file of ``root``'s decoded images, its key, whether it was made now): packed
    on the first call, read from the cache after. Only when it decodes, ``show(root, n)`` may
    give a progress bar (a context manager with ``update(k)``) over the n image files, and
    ``on_skip(path, reason)`` hears of each file that could not be read."""
    from logicat.data.pack import pack_image_folder

    samples, _ = list_image_folder(root, positive)
    key = _key(root, samples, positive, size)
    path = cache_dir().parent / "folders" / f"{key[:32]}.h5"
    if path.is_file():
        return path, key, False
    path.parent.mkdir(parents=True, exist_ok=True)
    with show(root, len(samples)) if show else contextlib.nullcontext() as bar:
        result = pack_image_folder(root, path, size=size, positive=positive,
                                   progress=None if bar is None else bar.update)
    for failure in result.skipped:
        if on_skip is not None:
            on_skip(*failure)
    return path, key, True


def from_folders(images: str | os.PathLike[str], test_images: str | os.PathLike[str] | None
                 = None, *, test_fraction: float = 0.2, positive: str = "cat", seed: int = 0,
                 size: int = 64, **pack_options: Any) -> ImageSet:
    """The training and held-out images of the folder ``images`` (see the module docstring)."""
    path, key, _ = packed(images, positive, size, **pack_options)
    x, y, classes = load_h5_dataset(path)
    name = f"{Path(images)}{os.sep}"
    if test_images is not None:
        test_path, _, _ = packed(test_images, positive, size, **pack_options)
        test_x, test_y, test_classes = load_h5_dataset(test_path)
        if test_classes[1] != classes[1]:
            raise ParameterError(f"--test-images {test_images}: its positive class is "
                                 f"'{test_classes[1]}', the training images' '{classes[1]}'.")
        data = CatData(x, y, test_x, test_y, classes)
        test_name = f"the {len(test_y)} images of {Path(test_images)}{os.sep}"
    else:
        train, test = split(y, test_fraction, seed)
        data = CatData(x[train], y[train], x[test], y[test], classes)
        test_name = (f"{len(test)} held-out images of {name} ({100 * test_fraction:g} % of "
                     "each class)")
    record = {"file": name, "sha256": key,  # of the folder's listing (``folder_key``)
              "n_samples": int(len(data.train_y)), "test": test_name}
    return ImageSet(data, name, test_name, record)


def split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows): the one stratified split (``data.splits.held_out_rows``, early
    stopping's too: round(fraction x its count) of each class, refused when a class would have
    none held out or none left), drawn by ``seed``."""
    if not 0 < fraction < 1:
        raise ParameterError(f"The 'test_fraction' parameter must be in (0, 1). Got {fraction} "
                             "instead.")
    test = held_out_rows(y, fraction, np.random.default_rng(seed), parameter="test_fraction",
                           purpose="a held-out test")
    return np.setdiff1d(np.arange(len(y)), test), test
