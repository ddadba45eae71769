"""``logicat train --train-file BIG.h5``: training streamed from a file in chunks.

Called by ``logicat train``; prints the same cost table, accuracies and model file as in-memory
training. Without ``--batch-size``: exact full-batch gradient descent, one pass over the file per
iteration. With it: mini-batch SGD, ``--iterations`` counting epochs (passes over the file).
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np


def train_from_file(*, train_file: Path, data_dir, learning_rate: float, iterations: int,
                    loss: str, dtype: str, print_every: int, out: Path, plot: Path | None,
                    batch_size: int | None, seed: int, chunk_rows: int) -> None:
    from logicat.callbacks import PrintCost, ProgressBar
    from logicat.data import TEST_FILE, file_sha256, find_catvnoncat, load_h5_dataset
    from logicat.estimator import LogisticRegression
    from logicat.fast.streaming import (
        H5Images,
        predict_file,
        streaming_gradient_descent,
        streaming_sgd,
    )
    from logicat.features import images_to_features, preprocessing_spec
    from logicat.plots import plot_learning_curves

    bar = ProgressBar()
    callbacks = [PrintCost(print_every, write=bar.write), bar]
    with H5Images(train_file) as source:
        gb = source.m * source.n / 1e9
        mode = "exact full-batch gradient descent" if batch_size is None else (
            f"mini-batch SGD (batch size {batch_size}, seed {seed})")
        click.echo(f"Training on {train_file}: {source.m} images of {source.image_size}x"
                   f"{source.image_size}, {gb:.3f} GB as uint8, streamed in chunks of "
                   f"{chunk_rows}; {mode}")
        start = time.perf_counter()
        try:
            if batch_size is None:
                result = streaming_gradient_descent(
                    source, learning_rate=learning_rate, max_iter=iterations, loss=loss,
                    dtype=dtype, chunk_rows=chunk_rows, callbacks=callbacks)
            else:
                result = streaming_sgd(
                    source, learning_rate=learning_rate, epochs=iterations,
                    batch_size=batch_size, seed=seed, loss=loss, dtype=dtype,
                    block_rows=chunk_rows, callbacks=callbacks)
        finally:
            bar.close()
        seconds = time.perf_counter() - start
        passes = result.n_iter
        click.echo(f"{passes} passes over the data in {seconds:.2f} s: "
                   f"{gb * passes / seconds:.3f} GB/s")
        p = predict_file(source, result.coef, result.intercept, chunk_rows=chunk_rows)
        train_acc = _accuracy_percent((p > 0.5).astype(int), source.y)
        classes, size, n, m = source.classes, source.image_size, source.n, source.m
        sha = file_sha256(train_file)

    clf = LogisticRegression(learning_rate=learning_rate, max_iter=iterations, loss=loss,
                             dtype=dtype)
    clf.coef_, clf.intercept_ = result.coef, float(result.intercept)
    clf.classes_, clf.n_features_in_ = np.array([0, 1]), n
    clf.n_iter_, clf.cost_history_ = result.n_iter, result.cost_history

    click.echo(f"train accuracy: {train_acc} %")
    metrics = {"train_accuracy": train_acc}
    test_acc = None
    try:  # the cat test set, when it is there and the image size matches
        test_x, test_y, _ = load_h5_dataset(find_catvnoncat(data_dir) / TEST_FILE)
    except (OSError, ValueError):
        test_x = None
    if test_x is not None and test_x.shape[1] == size:
        test_acc = _accuracy_percent(clf.predict(images_to_features(test_x, dtype)), test_y)
        click.echo(f"test accuracy: {test_acc} %")
        metrics["test_accuracy"] = test_acc
    clf.save(
        out,
        preprocessing=preprocessing_spec(size),
        class_names=list(classes),
        positive_class=classes[1],
        training_data={"file": Path(train_file).name, "sha256": sha, "n_samples": m},
        metrics=metrics,
    )
    click.echo(f"Saved the model to {out}")
    if plot is not None:
        what = "iteration" if batch_size is None else "epoch"
        plot_learning_curves({f"learning rate = {learning_rate:g}": clf.cost_history_}, plot,
                             title=f"Learning curve, out of core ({loss}, {dtype}, per {what})")
        click.echo(f"Saved the learning curve to {plot}")


def _accuracy_percent(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(100 - np.mean(np.abs(predicted - y)) * 100)
