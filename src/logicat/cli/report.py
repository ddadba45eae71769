"""``logicat report``: one self-contained HTML page about a model."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import (
    data_dir_option,
    data_files,
    model_option,
    prior_option,
)
from logicat.core.paths import check_outputs


@click.command()
@model_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("report.html"),
              show_default=True, help="Where to write the HTML file.")
@data_dir_option
@prior_option
def report(model_path, out, data_dir, prior):
    """Write an HTML report: metrics on the train and test sets, the pictures (learning curve,
    sigmoid, weights, misclassified images, ROC, calibration), the hyperparameters and the
    training-data checksum. Everything is embedded in the one file."""
    from logicat.data import TRAIN_FILE, file_sha256, find_catvnoncat, load_catvnoncat
    from logicat.io.files import read_model
    from logicat.viz.report import write_report

    check_outputs({"--out": out}, {"the model": model_path, **data_files(data_dir)})
    from logicat.cli.evaluation_data import check_trained_on_cat_data

    model = read_model(model_path).at_prior(prior)
    model.image_preprocessing(model_path)
    model.check_memory(gradients=True)  # the report explains its misclassified images
    check_trained_on_cat_data(model, model_path, "the report scores the cat data's training and "
                              "test images (logicat evaluate --images DIR scores other images)")
    folder = find_catvnoncat(data_dir)
    data = load_catvnoncat(folder)
    write_report(model, data, out, model_path=model_path,
                 data_sha256=file_sha256(folder / TRAIN_FILE))
    click.echo(f"Saved the report to {out}")
