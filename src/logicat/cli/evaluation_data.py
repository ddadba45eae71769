"""What ``logicat evaluate`` scores a model on: the cat data, a packed file or an image folder.

    (no data option)   the cat data's test set (``--split train``: its training set), refused
                       for a model whose file says it was trained on other data
    --test-file FILE   a packed HDF5 file of the cat-data layout (``logicat pack``'s output)
    --images DIR       DIR/<class>/... decoded at the model's size, as ``logicat pack`` reads it

Whatever the source, its classes are matched to the model's by ``logicat pack --positive``'s
rule: the class named like the model's positive class (or ``--positive NAME``) is label 1,
every other class label 0; data without a class of that name is refused, naming both.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import click
import numpy as np

from logicat.core.errors import DataFileError


class Scored(NamedTuple):
    """Images and labels to score, and what they are.

    images : uint8 ndarray of shape (m, size, size, 3), at the model's size
    y : int64 ndarray of shape (m,), 1 = the model's positive class
    classes : the data's names of label 0 and label 1
    source : the file or folder read, for messages and JSON
    split : "test" or "train" for the cat data, None otherwise
    skipped : (path, reason) of each unreadable image skipped (folders only)
    """

    images: np.ndarray
    y: np.ndarray
    classes: tuple[str, str]
    source: str
    split: str | None = None
    skipped: tuple[tuple[Path, str], ...] = ()


def check_data_options(images: Path | None, test_file: Path | None) -> None:
    """Usage errors, before any work, for options that do not go together: one data source
    at most, and the options of the cat data (--data-dir, --split) or of the other sources
    (--positive) only with their source."""
    ctx = click.get_current_context()

    def given(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name != "DEFAULT"

    if images is not None and test_file is not None:
        raise click.BadParameter("expected one data source, --images DIR or --test-file FILE. "
                                 "Got both instead.", param_hint="'--images'")
    if images is not None or test_file is not None:
        flag = "--images" if images is not None else "--test-file"
        for name in ("data_dir", "split"):
            if given(name):
                raise click.BadParameter(f"chooses from the cat data; it does not apply to "
                                         f"{flag}.",
                                         param_hint=f"'--{name.replace('_', '-')}'")
    elif given("positive"):
        raise click.BadParameter("names a class of --images DIR or --test-file FILE; it does "
                                 "not apply to the cat data.", param_hint="'--positive'")


def scored_data(model, model_path: Path, *, images: Path | None, test_file: Path | None,
                data_dir: Path | None, split: str, positive: str | None,
                ) -> tuple[Scored, Scored]:
    """(the data to score, the data ``--cv`` folds): for the cat data, the chosen split and
    the training set; for a file or a folder, that data twice."""
    size = int(model.image_preprocessing(model_path)["image_size"])
    want = positive or model.positive_class
    if test_file is not None:
        from logicat.data import load_h5_dataset

        x, y, classes = load_h5_dataset(test_file)
        if x.shape[1] != size:
            raise DataFileError(f"{test_file}: expected images of {size}x{size}, the size "
                                f"{model_path} takes. Got {x.shape[1]}x{x.shape[2]} instead "
                                f"(pack it again with --image-size {size}).")
        y, classes = positive_first(y, classes, want, test_file, model, model_path)
        data = Scored(x, y, classes, str(test_file))
        return data, data
    if images is not None:
        data = _folder(images, want, size, model, model_path)
        return data, data
    return _cat_data(model, model_path, data_dir, split)


def positive_first(y: np.ndarray, classes: tuple[str, str], positive: str, where,
                   model, model_path: Path) -> tuple[np.ndarray, tuple[str, str]]:
    """(y, classes) with the class named ``positive`` as label 1 (the labels swapped if it was
    label 0), or a one-line ``DataFileError`` naming the data's classes and the model's."""
    if classes[1] == positive:
        return y, classes
    if classes[0] == positive:
        return (1 - y).astype(np.int64), (classes[1], classes[0])
    raise DataFileError(
        f"{where}: expected a class named '{positive}', "
        + (f"the positive class of {model_path} (or --positive NAME, the data's name for "
           f"'{model.positive_class}')" if positive == model.positive_class else
           f"as --positive says ({model_path} predicts '{model.positive_class}')")
        + f". Got the classes '{classes[0]}' and '{classes[1]}' instead.")


def _folder(root: Path, positive: str, size: int, model, model_path: Path) -> Scored:
    from logicat.data import load_image_folder

    skipped: list[tuple[Path, str]] = []
    try:
        folder = load_image_folder(root, positive, size,
                                   on_skip=lambda path, why: skipped.append((path, why)))
    except DataFileError as e:
        if Path(root).is_dir() and not (Path(root) / positive).is_dir():
            # the folder's own message names the class folders found; say whose class it is
            raise DataFileError(
                f"{e}; {model_path} predicts '{model.positive_class}': name the folder of its "
                f"'{model.positive_class}' images with --positive FOLDER.") from None
        raise
    return Scored(folder.images, folder.labels, folder.classes, str(root), None,
                  tuple(skipped))


def check_trained_on_cat_data(model, model_path: Path, instead: str) -> None:
    """A usage error, saying what to do ``instead``, for a model whose file says it was trained
    on other data than the cat data's training file: its scores on the cat data would say
    nothing of it (``evaluate``, ``report`` and ``plot`` all ask this before scoring)."""
    from logicat.data import TRAIN_FILE

    trained_on = (model.metadata.get("training_data") or {}).get("file")
    if trained_on is not None and trained_on != TRAIN_FILE:
        raise click.UsageError(f"-m {model_path}: the model was trained on {trained_on}, not "
                               f"on the cat data; {instead}.")


def _cat_data(model, model_path: Path, data_dir: Path | None, split: str
              ) -> tuple[Scored, Scored]:
    from logicat.data import TEST_FILE, TRAIN_FILE, find_catvnoncat, load_catvnoncat

    check_trained_on_cat_data(model, model_path, "pass --images DIR or --test-file FILE to say "
                              "what to score it on")
    folder = find_catvnoncat(data_dir)
    data = load_catvnoncat(folder)
    parts = {"test": (data.test_x, data.test_y, folder / TEST_FILE),
             "train": (data.train_x, data.train_y, folder / TRAIN_FILE)}
    out = []
    for name in (split, "train"):
        x, y, path = parts[name]
        y, classes = positive_first(y, data.classes, model.positive_class, path, model,
                                    model_path)
        out.append(Scored(x, y, classes, str(path), name))
    return out[0], out[1]
