"""What ``logicat train`` trains and tests on: the cat data, or your own photos (``--images``).

``training_set`` gives a ``logicat.data.image_sets.ImageSet``: the data as the cat data's
``CatData``, the names to print, the record for the model file. For your photos the folder is
decoded once (a progress bar the first time, then the cache) and the accuracies printed are on
the held-out part of your photos, said so on the line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from logicat.cli.options import FiniteFloat

#: the options that choose the data, shared by the dense models' and the ConvNet's paths
IMAGE_OPTIONS = ("images", "test_images", "test_fraction", "positive", "image_size")
#: the side of the images a model takes when nothing says otherwise (the cat data's)
DEFAULT_IMAGE_SIZE = 64


def image_options(command):
    """``--images DIR``, ``--test-images DIR``, ``--test-fraction F``, ``--positive NAME``,
    ``--image-size N``."""
    for option in reversed([
        click.option("--images", type=click.Path(path_type=Path, file_okay=False), default=None,
                     help="Train on your own photos: DIR/<class>/... (any format Pillow reads; "
                     "decoded once, then cached), tested on a held-out part of them."),
        click.option("--test-images", type=click.Path(path_type=Path, file_okay=False),
                     default=None, help="With --images: test on this folder (same layout) "
                     "instead of a held-out part."),
        click.option("--test-fraction", type=FiniteFloat(0, 1, min_open=True, max_open=True),
                     default=0.2, show_default=True,
                     help="With --images: the part of each class held out for the test "
                     "(stratified, drawn by --seed)."),
        click.option("--positive", default="cat", show_default=True,
                     help="With --images: the class folder that is label 1 (as in `logicat "
                     "pack`); every other class folder is label 0."),
        click.option("--image-size", type=click.IntRange(min=8, max=1024), default=None,
                     metavar="N",
                     help="With --images: the side, in pixels, every photo is resized to "
                     "(Lanczos, the aspect ratio not kept): the model's input, which predict, "
                     "serve and export then use [default: 64, the cat data's]. A packed file "
                     "has its own: `logicat pack --image-size N`."),
    ]):
        command = option(command)
    return command


def image_inputs(images: Path | None, test_images: Path | None, positive: str) -> list:
    """("an image of --images", path) for every image file of the two folders (none when not
    given): what a training command's outputs must not overwrite (``paths.check_outputs``)."""
    from logicat.data.folders import list_image_folder

    inputs = []
    for flag, folder in (("--images", images), ("--test-images", test_images)):
        if folder is not None:
            inputs += [(f"an image of {flag}", path)
                       for path, _ in list_image_folder(folder, positive)[0]]
    return inputs


def check_image_size(image_size: int | None, images: Path | None,
                     train_file: Path | None) -> None:
    """``--image-size`` resizes your photos (``--images``): the cat data and a packed file have
    their images' size already."""
    if image_size is None or images is not None:
        return
    if train_file is not None:
        raise click.BadParameter(f"resizes the photos of --images; {train_file} holds images of "
                                 "the size it was packed at: pack them again with `logicat pack "
                                 "--image-size N`.", param_hint="'--image-size'")
    if image_size != DEFAULT_IMAGE_SIZE:
        raise click.BadParameter(f"resizes the photos of --images DIR; the cat data's images are "
                                 f"{DEFAULT_IMAGE_SIZE}x{DEFAULT_IMAGE_SIZE}.",
                                 param_hint="'--image-size'")


def training_set(data_dir, images, test_images, test_fraction, positive, seed,
                 image_size=None, *, echo=click.echo):
    """The ``ImageSet`` to train on: the cat data (found as --data-dir says), or ``images``
    resized to ``image_size`` (``echo`` says what it trains on; the other processes of
    ``--nproc`` pass a silent one)."""
    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.data.image_sets import from_folders

    if images is None:
        if test_images is not None:
            raise click.BadParameter("needs --images DIR.", param_hint="'--test-images'")
        folder = find_catvnoncat(data_dir)
        return cat_data_set(folder, load_catvnoncat(folder))
    from tqdm.auto import tqdm

    def show(root, total):  # a bar while a folder is decoded (not when its cache is read)
        return tqdm(total=total, unit="img", desc=f"decoding {root}",
                    disable=None if echo is click.echo else True)

    def skipped(path, why):
        from logicat.core.paths import shown

        tqdm.write(f"Skipped {shown(path)}: {why}", file=sys.stderr)

    size = DEFAULT_IMAGE_SIZE if image_size is None else image_size
    image_set = from_folders(images, test_images, test_fraction=test_fraction,
                             positive=positive, seed=seed, size=size, show=show,
                             on_skip=skipped)
    data = image_set.data
    neg, pos = data.classes
    n_pos = int(data.train_y.sum())
    echo(f"Training on {len(data.train_y)} images of {image_set.train_name} ({pos}: "
         f"{n_pos}, {neg}: {len(data.train_y) - n_pos}), resized to {size}x{size}; testing "
         f"on {image_set.test_name}")
    return image_set


def cat_data_set(folder: Path, data):
    """The cat data read from ``folder`` (all of it, or a process's shard) as an ``ImageSet``."""
    from logicat.data import TRAIN_FILE, file_sha256
    from logicat.data.image_sets import ImageSet

    return ImageSet(data, str(folder / TRAIN_FILE),
                    f"the cat data's {len(data.test_y)} test images",
                    {"file": TRAIN_FILE, "sha256": file_sha256(folder / TRAIN_FILE),
                     "n_samples": len(data.train_y)})


def check_test_file(train_file: Path, test_file: Path) -> None:
    """``train --train-file F --test-file T``, before training: T is a file of ``logicat
    pack``'s layout with F's image size and class names."""
    from logicat.core.errors import UsageError
    from logicat.data.chunks import H5Images

    with H5Images(train_file) as train, H5Images(test_file) as test:
        size = train.image_size
        if test.image_size != size:
            raise UsageError(f"--test-file {test_file}: expected images of {size}x{size}, as "
                             f"the --train-file holds. Got {test.image_size}x{test.image_size}: "
                             f"pack it again with --image-size {size}.")
        if list(test.classes) != list(train.classes):
            raise UsageError(f"--test-file {test_file}: expected the classes of the "
                             f"--train-file, {list(train.classes)}. Got {list(test.classes)}.")


def score_test_file(model, test_file: Path, size: int, chunk_rows: int, dtype=None
                    ) -> tuple[list[str], dict, dict]:
    """The model's accuracy on ``test_file`` (checked by ``check_test_file``), read a chunk at
    a time: (the line to print, the metrics, the record for the model file)."""
    import numpy as np

    from logicat.data import file_sha256
    from logicat.data.chunks import H5Images
    from logicat.data.features import images_to_features
    from logicat.evaluate.metrics import accuracy_percent

    with H5Images(test_file) as source:
        predicted = np.concatenate([model.predict(images_to_features(
            X.reshape(len(X), size, size, 3), dtype)) for _, _, X in source.chunks(chunk_rows)])
        accuracy, m = accuracy_percent(predicted, source.y), source.m
    return ([f"test accuracy: {accuracy} %, on the {m} images of {test_file}"],
            {"test_accuracy": accuracy},
            {"test_file": Path(test_file).name, "test_sha256": file_sha256(test_file)})


def validation_line(accuracy: float, n: int) -> str:
    """The accuracy on the training images early stopping held out (and judged epochs by)."""
    return f"validation accuracy: {accuracy} %, on the {n} training images early stopping held out"


def accuracy_lines(image_set, train_accuracy: float, test_accuracy: float) -> list[str]:
    """The two accuracy lines: as the lesson prints them for the cat data; for your photos,
    saying what each was measured on."""
    from logicat.data import TRAIN_FILE

    if image_set.training_data["file"] == TRAIN_FILE:
        return [f"train accuracy: {train_accuracy} %", f"test accuracy: {test_accuracy} %"]
    n = len(image_set.data.train_y)
    return [f"train accuracy: {train_accuracy} %, on its {n} training images",
            f"test accuracy: {test_accuracy} %, on {image_set.test_name}"]
