"""Labelled image folders in torchvision's ImageFolder layout: ``root/<class>/**/*.jpg``.

The positive class (label 1) is chosen by name, ``positive="cat"``, never by sort order; every
other class folder is label 0. The negative class is named after the other folder when there is
exactly one (``("dog", "cat")``), else ``f"non-{positive}"``.

Image files are found by extension, case-insensitively (``IMAGE_EXTENSIONS``), recursively inside
each class folder; hidden files and folders (names starting with ".") are ignored. Listing never
decodes anything (``list_image_folder``); ``load_image_folder`` decodes and skips unreadable files,
reporting each to ``on_skip(path, reason)`` or, without a callback, in one ``UserWarning``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from logicat.core.errors import DataFileError
from logicat.core.paths import shown
from logicat.core.validation import MAX_CLASS_NAME, is_class_name
from logicat.data.images import MAX_PIXELS, load_images

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


class ImageFolderData(NamedTuple):
    """``images, labels, paths, classes = load_image_folder(root)``.

    images : uint8 ndarray of shape (m, size, size, 3)
    labels : int64 ndarray of shape (m,), 1 = the positive class
    paths : list of m Paths, the file of each image
    classes : (negative name, positive name), the name of label 0 then of label 1
    """

    images: np.ndarray
    labels: np.ndarray
    paths: list[Path]
    classes: tuple[str, str]

    def __repr__(self) -> str:
        """What it holds, not every pixel: ``ImageFolderData(60 images of 64x64x3 uint8; cat:
        25, non-cat: 35; paths: 60; classes: ('non-cat', 'cat'))``."""
        n_positive = int(np.count_nonzero(self.labels == 1))
        shape = "x".join(map(str, self.images.shape[1:]))
        return (f"ImageFolderData({len(self.labels)} images of {shape} {self.images.dtype}; "
                f"{self.classes[1]}: {n_positive}, {self.classes[0]}: "
                f"{len(self.labels) - n_positive}; paths: {len(self.paths)}; classes: "
                f"{self.classes!r})")


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every image-named entry under ``folder`` (by extension, case-insensitively; hidden names
    skipped), recursively, in sorted order, following symlinks but never round a loop nor up
    to a folder that holds ``folder``.

    Nothing is opened here: an entry that is not a regular file (a FIFO named ``photo.jpg``) is
    listed, and the loader reports it and skips it like any unreadable image.
    """
    files = []
    seen: set[tuple[int, int]] = set()
    top = os.path.realpath(folder)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        info = os.stat(dirpath)
        real = os.path.realpath(dirpath)
        # a symlink back to a folder already walked, or up to one that holds this walk's top
        # (root/dog/up -> .. would walk root/cat as dogs)
        if (info.st_dev, info.st_ino) in seen or (
                real != top and os.path.commonpath([real, top]) == real):
            dirnames[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files += [Path(dirpath) / name for name in filenames if not name.startswith(".")
                  and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS]
    return sorted(files)


def list_image_folder(
    root: str | os.PathLike[str], positive: str = "cat"
) -> tuple[list[tuple[Path, int]], tuple[str, str]]:
    """List the ``(path, label)`` of every image file under ``root`` without decoding any.

    Returns ``(samples, classes)``: samples sorted by class folder then path, label 1 for files
    in ``root/<positive>``, 0 for the other class folders; classes is (negative, positive).
    Raises ``DataFileError`` if root is not a folder, a class folder's name could not be a
    class name (``core.validation.is_class_name``: a tab, a newline, only spaces, undecodable
    bytes), it has no ``positive`` folder or no other class folder, or either label has no
    image files. Entries that are not readable regular files (a dangling symlink, a loop, a
    FIFO) are listed: whoever decodes them skips them with one line each.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        problem = "not a folder" if root.exists() else "no such folder"
        raise DataFileError(f"{root}: {problem}")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and _visible(p))
    for name in folders:  # each becomes a class name, shown in lines and kept in model files
        if not is_class_name(name):
            raise DataFileError(
                f"{shown(root)}: expected class folders named by printable names of at most "
                f"{MAX_CLASS_NAME} characters, without spaces around them. Got the folder "
                f"'{shown(name)}' instead; rename it.")
    if positive not in folders and folders:
        raise DataFileError(
            f"{root}: no class folder named '{positive}' (class folders found: "
            f"{', '.join(folders)})")
    if not folders:  # a flat folder: show the layout
        loose = len(image_files(root))
        raise DataFileError(
            f"{root}: no class folder named '{positive}' (class folders found: none); expected "
            f"one folder per class, {root / positive}/ and {root}{os.sep}<other class>/, with "
            "the images inside" + (f" (its {loose} image files lie directly in it: move them "
                                   "into class folders)" if loose else ""))
    negatives = [name for name in folders if name != positive]
    if not negatives:
        raise DataFileError(
            f"{root}: only one class folder ('{positive}'); add at least one folder of "
            f"non-{positive} images next to it"
        )
    classes = (negatives[0] if len(negatives) == 1 else f"non-{positive}", positive)

    samples = [(path, 0) for name in negatives for path in image_files(root / name)]
    positives = [(path, 1) for path in image_files(root / positive)]
    extensions = " ".join(IMAGE_EXTENSIONS)
    if not samples and not positives:
        raise DataFileError(f"{root}: no image files ({extensions}) in its class folders")
    if not positives:
        raise DataFileError(f"{root}: the folder {shown(root / positive)} has no image files "
                            f"({extensions}); put the '{positive}' images in it")
    if not samples:
        empty = ", ".join(shown(root / name) for name in negatives)
        raise DataFileError(
            f"{root}: the folder{'s' if len(negatives) > 1 else ''} {empty} "
            f"{'have' if len(negatives) > 1 else 'has'} no image files ({extensions}); only "
            f"'{positive}' has images: put the other class's images in "
            f"{'them' if len(negatives) > 1 else 'it'}")
    # Sorted by class folder name, then path, whatever the labels, like torchvision.
    samples = sorted(samples + positives, key=lambda s: (s[0].relative_to(root).parts[0], s[0]))
    return samples, classes


def load_image_folder(
    root: str | os.PathLike[str],
    positive: str = "cat",
    size: int = 64,
    *,
    max_pixels: int = MAX_PIXELS,
    on_skip: Callable[[Path, str], None] | None = None,
) -> ImageFolderData:
    """Load every image under ``root`` (see ``list_image_folder``) as model input.

    Returns ``ImageFolderData(images (m, size, size, 3) uint8, labels (m,) int64, paths,
    classes)``. Unreadable files are skipped, not fatal: each is passed to ``on_skip(path,
    reason)``, or, when no callback is given, all are listed in one ``UserWarning``. Raises
    ``DataFileError`` as ``list_image_folder`` does, and if no readable image is left for a label.
    """
    samples, classes = list_image_folder(root, positive)
    label_of = dict(samples)
    images, paths, failures = load_images(
        [path for path, _ in samples], size, max_pixels=max_pixels
    )
    if failures:
        if on_skip is not None:
            for path, reason in failures:
                on_skip(path, reason)
        else:
            listed = "; ".join(f"{path}: {reason}" for path, reason in failures)
            warnings.warn(
                f"skipped {len(failures)} unreadable image(s): {listed}", UserWarning, stacklevel=2
            )
    labels = np.array([label_of[path] for path in paths], dtype=np.int64)
    check_both_classes_read(root, labels, classes, len(failures))
    return ImageFolderData(images, labels, paths, classes)


def check_both_classes_read(root: str | os.PathLike[str], labels: np.ndarray,
                            classes: tuple[str, str], n_skipped: int) -> None:
    """Refuse a folder none of whose images of a class could be read (``DataFileError``, exit
    1): "photos: no readable 'cat' images (5 file(s) skipped as unreadable)". Every command
    that decodes a folder says it so (``train --images``, ``evaluate --images``)."""
    for label in (0, 1):
        if not (labels == label).any():
            raise DataFileError(
                f"{shown(Path(root).expanduser())}: no readable '{classes[label]}' images "
                f"({n_skipped} file(s) skipped as unreadable)"
            )
