"""``logicat train --train-file BIG.h5``: training streamed from a file in chunks.

Called by ``logicat train``; prints the same cost table, accuracies and model file as in-memory
training, through ``logicat.training.fit.fit`` (the rows streamed). Without ``--batch-size``:
exact full-batch gradient descent, one pass over the file per iteration. With it: mini-batches
of a block shuffle, ``--iterations`` counting epochs (passes over the file).
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np


def train_from_file(params: dict, *, train_file: Path, data_dir, progress, out: Path,
                    plot: Path | None, chunk_rows: int, test_file: Path | None = None,
                    training: dict, checkpoint: Path | None) -> None:
    """Train out of core on ``train_file``, showing ``progress`` (``training_options.progress``'s
    bar and callbacks), with ``training``'s checkpoints (saved to ``checkpoint`` every
    ``--checkpoint-every`` and on Ctrl-C, resumed with ``--resume``); scored on ``test_file``
    when given, else on the cat data's test set only when ``train_file`` is the cat data's
    training file (it says nothing of anyone's photos)."""
    from logicat.cli import training_options as topts
    from logicat.cli.saving import save_and_plot
    from logicat.data import file_sha256
    from logicat.data.chunks import H5Images
    from logicat.data.features import images_to_features, preprocessing_spec
    from logicat.evaluate.metrics import accuracy_percent

    bar, callbacks = progress
    batch_size, dtype = params["batch_size"], params["dtype"]
    with H5Images(train_file) as source:
        gb = source.m * source.n / 1e9
        mode = "exact full-batch gradient descent" if batch_size is None else (
            f"mini-batch SGD (batch size {batch_size}, seed {params['random_state']})")
        click.echo(f"Training on {train_file}: {source.m} images of {source.image_size}x"
                   f"{source.image_size}, {gb:.3f} GB as uint8, streamed in chunks of "
                   f"{chunk_rows}; {mode}")
        start = time.perf_counter()
        unit = "iteration" if batch_size is None else "epoch"
        passes = _Passes()  # this process's: a resumed run made the others before
        try:
            done = topts.fit_with_checkpoints(
                params, source, source.y, training, checkpoint, [*callbacks, passes], unit,
                chunk_rows=chunk_rows)
        finally:
            bar.close()
        seconds = time.perf_counter() - start
        passes = passes.count
        click.echo(f"{passes} passes over the data in {seconds:.2f} s: "
                   f"{gb * passes / seconds:.3f} GB/s")
        model = done.to_model(params)
        predicted = np.concatenate([model.predict(images_to_features(X.reshape(
            len(X), source.image_size, source.image_size, 3), dtype))
            for _, _, X in source.chunks(chunk_rows)])
        train_acc = accuracy_percent(predicted, source.y)
        classes, size, m = source.classes, source.image_size, source.m
    sha = file_sha256(train_file)

    click.echo(f"train accuracy: {train_acc} %")
    metrics = {"train_accuracy": train_acc}
    trained_on = {"file": Path(train_file).name, "sha256": sha, "n_samples": m}
    if test_file is not None:  # the user's held-out file
        from logicat.cli.datasets import score_test_file

        lines, scored, record = score_test_file(model, test_file, size, chunk_rows, dtype)
        click.echo(lines[0])
        metrics.update(scored)
        trained_on.update(record)
    elif (cat_test := _cat_test_set(data_dir, sha)) is not None:
        test_acc = accuracy_percent(model.predict(images_to_features(cat_test[0], dtype)),
                                    cat_test[1])
        click.echo(f"test accuracy: {test_acc} %")
        metrics["test_accuracy"] = test_acc
    what = "iteration" if batch_size is None else "epoch"
    save_and_plot(
        model, out, plot, f"Learning curve, out of core ({params['loss']}, {dtype}, per {what})",
        preprocessing=preprocessing_spec(size), class_names=list(classes),
        positive_class=classes[1], training_data=trained_on, metrics=metrics,
    )


class _Passes:
    """A cost-only callback that counts the iterations (passes over the file) it sees."""

    cost_only = True

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, state) -> None:
        self.count += 1


def _cat_test_set(data_dir, sha: str):
    """(x, y) of the cat data's test set when ``sha`` is its training file's, else None."""
    from logicat.data import TEST_FILE, TRAIN_FILE, file_sha256, find_catvnoncat, load_h5_dataset

    try:  # the cat test set, when the file is the cat data's training set
        folder = find_catvnoncat(data_dir)
        if file_sha256(folder / TRAIN_FILE) == sha:
            test_x, test_y, _ = load_h5_dataset(folder / TEST_FILE)
            return test_x, test_y
    except (OSError, ValueError):
        pass
    return None
