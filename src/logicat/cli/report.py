"""``logicat report``: one self-contained HTML page about a model."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import (
    data_dir_option,
    data_files,
    data_options,
    model_option,
    prior_option,
)
from logicat.core.paths import check_outputs


@click.command()
@model_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("report.html"),
              show_default=True, help="Where to write the HTML file.")
@data_dir_option
@data_options
@prior_option
def report(model_path, out, data_dir, images, test_file, positive, prior):
    """Write an HTML report: metrics on the train and test sets, the pictures (learning curve,
    sigmoid, weights, misclassified images, ROC, calibration), the hyperparameters and the
    training-data checksum. Everything is embedded in the one file.

    The data is the model's own: the cat data, or for a model trained with train --images DIR,
    the photos of DIR it trained on and those it held out. --images DIR or --test-file FILE
    tests it on other images.
    """
    from logicat.cli.evaluation_data import check_data_options, report_data
    from logicat.data import file_sha256
    from logicat.data.catvnoncat import CatData
    from logicat.io.files import read_model
    from logicat.viz.report import write_report

    check_data_options(images, test_file)
    check_outputs({"--out": out}, {"the model": model_path, **data_files(data_dir),
                                   **({"--test-file": test_file} if test_file else {})})
    model = read_model(model_path).at_prior(prior)
    model.image_preprocessing(model_path)
    model.check_memory(gradients=True)  # the report explains its misclassified images
    train, test = report_data(model, model_path, images=images, test_file=test_file,
                              data_dir=data_dir, positive=positive)
    data = CatData(None if train is None else train.images, None if train is None else train.y,
                   test.images, test.y, test.classes)
    sha = None  # of the training data now, beside the one the model recorded
    record = model.metadata.get("training_data") or {}
    if train is not None and "folder" in record:  # your photos: their listing's
        from logicat.data.folder_cache import folder_key

        sha = folder_key(record["folder"], model.positive_class,
                         int(model.preprocessing["image_size"]))
    elif train is not None:  # the cat data's training file
        sha = file_sha256(train.source)
    sources = {"train": train.source} if train is not None else {}
    write_report(model, data, out, model_path=model_path, data_sha256=sha,
                 sources={**sources, "test": test.source})
    click.echo(f"Saved the report to {out}")
