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
    # where the held-out images are, for evaluate and report to find them again (``again``)
    held_out: dict[str, Any] = {"folder": os.path.realpath(Path(images).expanduser())}
    if test_images is not None:
        test_x, test_y, test_classes, test_key, _, skipped = load_cached(
            test_images, positive, size, **pack_options)
        held_out |= {"test_folder": os.path.realpath(Path(test_images).expanduser()),
                     "test_sha256": test_key}
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
        held_out |= {"test_fraction": float(test_fraction), "seed": int(seed)}
    record = {"file": name, "sha256": key,  # of the folder (``folder_cache.folder_key``)
              "n_samples": int(len(data.train_y)), "test": test_name, **held_out}
    return ImageSet(data, name, test_name, record)


def again(record: dict[str, Any], positive: str, size: int, *, source: str = "the model",
          **pack_options: Any) -> tuple[ImageSet, list[str]]:
    """The training and held-out images a model file's ``training_data`` record says it had
    (``from_folders``' record: the folders by their real paths, the held-out fraction and
    seed, or the test folder), read again through the folder cache, and what has changed since
    (the folders whose listing's SHA-256 differs from the record's: photos added, removed or
    edited; their held-out part is drawn again from what they hold now).

    Raises ``ParameterError`` when the record does not say where the folders are (a file
    written before it did, or edited) and ``DataFileError`` as ``from_folders`` does (a
    folder that is no longer there)."""
    folder, test_folder = record.get("folder"), record.get("test_folder")
    fraction, seed = record.get("test_fraction"), record.get("seed")
    if not isinstance(folder, str) or not (
            isinstance(test_folder, str) or (isinstance(fraction, float) and 0 < fraction < 1
                                             and isinstance(seed, int) and seed >= 0)):
        raise ParameterError(f"{source} was trained on {shown(record.get('file'))} and does not "
                             "record where its held-out images are (it was written by an "
                             "older logicat)")
    image_set = from_folders(folder, test_folder, test_fraction=fraction or 0.2,
                             positive=positive, seed=seed or 0, size=size, **pack_options)
    now = image_set.training_data
    changed = [shown(Path(path)) + os.sep for path, key in (
        (folder, "sha256"), (test_folder, "test_sha256")) if path is not None
        and now.get(key) != record.get(key)]
    return image_set, changed


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
