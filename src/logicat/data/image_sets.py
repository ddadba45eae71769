"""Your own photos as a training set and a held-out test set, decoded once.

``from_folders("photos/")`` is what ``logicat train --images photos/`` trains on: the images of
``photos/<class>/...`` (``logicat.data.folders``: the positive class by name, every other class
folder label 0), split into a stratified, seeded training part and a held-out test part
(``test_fraction`` of each class), or tested on a second folder (``test_images``). Its
accuracies are the user's: measured on their held-out photos, never on the cat data.

Decoding and resizing happen once per folder: the decoded images are cached
(``logicat.data.folder_cache``: keyed by the folder's real path and each file's status, checked
against the folder's listing when read, decoded again when they do not match).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from logicat.core.errors import ParameterError
from logicat.core.paths import shown
from logicat.data.catvnoncat import CatData
from logicat.data.folder_cache import load_cached
from logicat.data.folders import check_both_classes_read, list_image_folder
from logicat.data.splits import held_out_rows


class ImageSet(NamedTuple):
    """What training reads: the data (as the cat data's ``CatData``) and what to call it."""

    data: CatData
    train_name: str  # "photos/"
    test_name: str  # "13 held-out images of photos/"
    training_data: dict[str, Any]  # the model file's record of it


def from_folders(images: str | os.PathLike[str], test_images: str | os.PathLike[str] | None
                 = None, *, test_fraction: float = 0.2, positive: str = "cat", seed: int = 0,
                 size: int = 64, **pack_options: Any) -> ImageSet:
    """The training and held-out images of the folder ``images`` (see the module docstring)."""
    if test_images is not None:
        check_test_folder(images, test_images, positive)
    x, y, classes, key, _, skipped = load_cached(images, positive, size, **pack_options)
    check_both_classes_read(images, y, classes, skipped)
    name = f"{Path(images)}{os.sep}"
    if test_images is not None:
        test_x, test_y, test_classes, _, _, skipped = load_cached(test_images, positive, size,
                                                                  **pack_options)
        check_both_classes_read(test_images, test_y, test_classes, skipped)
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
    record = {"file": name, "sha256": key,  # of the folder (``folder_cache.folder_key``)
              "n_samples": int(len(data.train_y)), "test": test_name}
    return ImageSet(data, name, test_name, record)


def check_test_folder(images: str | os.PathLike[str], test_images: str | os.PathLike[str],
                      positive: str = "cat") -> None:
    """Refuse, before anything is decoded, a test folder that is the training folder (by
    another name: a symlink, a bind mount) or holds some of its photos (the same files: links),
    whose "test accuracy" would be the training accuracy, or partly (``ParameterError``)."""
    images, test_images = Path(images).expanduser(), Path(test_images).expanduser()
    if images.is_dir() and test_images.is_dir() and os.path.samefile(images, test_images):
        raise ParameterError(
            f"--test-images {shown(test_images)}: expected a folder other than --images; got "
            f"the same folder ({shown(os.path.realpath(images))}), whose test accuracy would "
            "be the training accuracy. Give other photos, or leave --test-images out to test "
            "on a held-out part of --images (--test-fraction).", parameter="test_images")
    training = {_identity(path): path for path, _ in list_image_folder(images, positive)[0]}
    test = [path for path, _ in list_image_folder(test_images, positive)[0]]
    shared = [(path, training[key]) for path in test
              if (key := _identity(path)) is not None and key in training]
    if shared:
        path, twin = shared[0]
        raise ParameterError(
            f"--test-images {shown(test_images)}: expected photos other than those of "
            f"--images; got {len(shared)} of its {len(test)} images among them ("
            f"{shown(path)} is {shown(twin)}), whose accuracy would be training accuracy. "
            "Give other photos.", parameter="test_images")


def _identity(path: Path) -> tuple[int, int] | None:
    """The file ``path`` names (device, inode), or None when it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


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
