"""What ``logicat evaluate`` scores a model on: the cat data, a packed file or an image folder.

    (no data option)   the data the model was trained on: the cat data's test set
                       (``--split train``: its training set), or, for a model trained on
                       ``train --images DIR``, the part of DIR it held out (its training part),
                       found again through the folder cache by what the model file records;
                       refused for a model trained on another file (``--train-file``)
    --test-file FILE   a packed HDF5 file of the cat-data layout (``logicat pack``'s output)
    --images DIR       DIR/<class>/... decoded at the model's size, as ``logicat pack`` reads it

Whatever the source, its classes are matched to the model's by ``logicat pack --positive``'s
rule: the class named like the model's positive class (or ``--positive NAME``) is label 1,
every other class label 0; data without a class of that name is refused, naming both.
"""

from __future__ import annotations

import os
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
        for name, what in (("data_dir", "finds the cat data"),
                           ("split", "chooses from the model's own data")):
            if given(name):
                raise click.BadParameter(f"{what}; it does not apply to {flag}.",
                                         param_hint=f"'--{name.replace('_', '-')}'")
    elif given("positive"):
        raise click.BadParameter("names a class of --images DIR or --test-file FILE; it does "
                                 "not apply to the cat data.", param_hint="'--positive'")


def scored_data(model, model_path: Path, *, images: Path | None, test_file: Path | None,
                data_dir: Path | None, split: str, positive: str | None,
                ) -> tuple[Scored, Scored]:
    """(the data to score, the data ``--cv`` folds): for the model's own data, the chosen split
    and the training set; for a file or a folder, that data twice."""
    if images is None and test_file is None:
        train, test = trained_on(model, model_path, data_dir)
        return (test if split == "test" else train), train
    data = _given(model, model_path, images, test_file, positive)
    return data, data


def report_data(model, model_path: Path, *, images: Path | None, test_file: Path | None,
                data_dir: Path | None, positive: str | None) -> tuple[Scored | None, Scored]:
    """(the training data, the test data) of ``report`` and ``plot``: the model's own (as
    ``trained_on``), or the data given as the test data, with the model's training data
    beside it when it can be had (else None)."""
    if images is None and test_file is None:
        return trained_on(model, model_path, data_dir)
    test = _given(model, model_path, images, test_file, positive)
    try:
        train, _ = trained_on(model, model_path, data_dir, quiet=True)
    except (click.UsageError, DataFileError):  # a file, or a folder that is no longer there
        train = None
    return train, test


def _given(model, model_path: Path, images: Path | None, test_file: Path | None,
           positive: str | None) -> Scored:
    """The data of --test-file or --images, its classes matched to the model's."""
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
        return Scored(x, y, classes, str(test_file))
    return _folder(images, want, size, model, model_path)


def trained_on(model, model_path: Path, data_dir: Path | None, *, quiet: bool = False
               ) -> tuple[Scored, Scored]:
    """(training set, test set) of the data the model file says it was trained on: the cat
    data's, or its photos' (``data.image_sets.again``: the folder of ``train --images`` split
    again as train split it, or its --test-images folder), saying in one line on stderr (unless
    ``quiet``) when a folder has changed since. A model trained on another file, or whose
    file does not say where its photos are, is a usage error; a folder no longer there is a
    ``DataFileError``."""
    from logicat.data import TRAIN_FILE

    record = model.metadata.get("training_data") or {}
    if record.get("file", TRAIN_FILE) == TRAIN_FILE:
        return _cat_data(model, model_path, data_dir)
    if "folder" not in record:
        check_trained_on_cat_data(model, model_path, "pass --images DIR or --test-file FILE to "
                                  "say what to score it on")
    from logicat.core.errors import ParameterError
    from logicat.data.image_sets import again

    size = int(model.image_preprocessing(model_path)["image_size"])
    skipped: list[tuple[Path, str]] = []
    try:
        image_set, changed = again(record, model.positive_class, size, source=f"-m {model_path}",
                                   on_skip=lambda path, why: skipped.append((path, why)))
    except ParameterError as e:
        raise click.UsageError(f"{e}; pass --images DIR or --test-file FILE to say what to "
                               "score it on.") from None
    except DataFileError as e:
        raise DataFileError(f"{e} (-m {model_path} was trained on it; pass --images DIR or "
                            "--test-file FILE to score it on other images)") from None
    for folder in changed if not quiet else ():
        click.echo(f"Note: {folder} has changed since {model_path} was trained (photos added, "
                   "removed or edited: its listing's SHA-256 differs); its held-out part is "
                   "drawn again from what it holds now and may hold photos the model trained "
                   "on.", err=True)
    data = image_set.data
    train_name = str(record["folder"]) + os.sep
    return (Scored(data.train_x, data.train_y, data.classes,
                   f"{train_name} (the part train trained on)", "train", tuple(skipped)),
            Scored(data.test_x, data.test_y, data.classes,
                   (f"{record['test_folder']}{os.sep}" if "test_folder" in record else
                    f"{train_name} (the part train held out: {100 * record['test_fraction']:g}"
                    " % of each class)"), "test", tuple(skipped)))


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


def _cat_data(model, model_path: Path, data_dir: Path | None) -> tuple[Scored, Scored]:
    """(the cat data's training set, its test set)."""
    from logicat.data import TEST_FILE, TRAIN_FILE, find_catvnoncat, load_catvnoncat

    folder = find_catvnoncat(data_dir)
    data = load_catvnoncat(folder)
    parts = {"test": (data.test_x, data.test_y, folder / TEST_FILE),
             "train": (data.train_x, data.train_y, folder / TRAIN_FILE)}
    out = []
    for name in ("train", "test"):
        x, y, path = parts[name]
        y, classes = positive_first(y, data.classes, model.positive_class, path, model,
                                    model_path)
        out.append(Scored(x, y, classes, str(path), name))
    return out[0], out[1]
