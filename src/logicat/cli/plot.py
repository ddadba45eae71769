"""``logicat plot <picture>``: each picture of a saved model, as PNG, SVG or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import data_dir_option, data_files, data_options, model_option
from logicat.core.paths import check_outputs

out_option = click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
                          help="The picture file (.png, .svg or .pdf).")
split_option = click.option("--split", type=click.Choice(["test", "train"]), default="test",
                            show_default=True, help="Which part of the model's own data to "
                            "use: the cat data's, or the photos train --images trained on and "
                            "held out.")


@click.group()
def plot() -> None:
    """Draw one picture of a model: learning-curve, sigmoid, weights, misclassified, roc,
    calibration."""


def _check_out(out: Path, model_path: Path, data_dir=None, reads_data: bool = True,
               test_file: Path | None = None) -> Path:
    """--out must be a picture path that is none of the command's inputs."""
    from logicat.core.errors import LogicatError
    from logicat.viz.canvas import check_plot_path

    check_outputs({"--out": out}, {"the model": model_path,
                                   **(data_files(data_dir) if reads_data else {}),
                                   **({"--test-file": test_file} if test_file else {})})
    try:
        return check_plot_path(out)
    except LogicatError as e:
        raise click.BadParameter(str(e), param_hint="'--out'") from None


def _model_and_sets(model_path, data_dir, images=None, test_file=None, positive=None):
    """The model and its data by split, ``{"train": Scored, "test": Scored}`` (the training
    set left out when it cannot be had): the model's own, or --images / --test-file as the
    test set (``evaluation_data.report_data``, the report's)."""
    from logicat.cli.evaluation_data import check_data_options, report_data
    from logicat.io.files import read_model

    check_data_options(images, test_file)
    model = read_model(model_path)
    model.image_preprocessing(model_path)
    train, test = report_data(model, model_path, images=images, test_file=test_file,
                              data_dir=data_dir, positive=positive)
    return model, {name: data for name, data in (("train", train), ("test", test))
                   if data is not None}


def _model_and_split(model_path, data_dir, split, images, test_file, positive):
    """(the model, its class names, images (m, s, s, 3), y (m,), X (m, n)) of one split."""
    model, sets = _model_and_sets(model_path, data_dir, images, test_file, positive)
    data = sets[split]
    return model, model.class_names, data.images, data.y, model.features(data.images)


def _save(fig, out: Path) -> None:
    from logicat.viz.canvas import save_figure

    save_figure(fig, out)
    click.echo(f"Saved {out}")


@plot.command("learning-curve")
@model_option
@out_option
def learning_curve(model_path, out):
    """The cost J at each iteration of the model's training (and the validation cost, if early
    stopping watched one)."""
    from logicat.io.files import read_model
    from logicat.viz.plots import model_learning_curves_figure

    _check_out(out, model_path, reads_data=False)
    _save(model_learning_curves_figure(read_model(model_path)), out)


@plot.command()
@model_option
@out_option
@click.option("--no-data", is_flag=True, help="Only the curve, without the model's logits.")
@split_option
@data_dir_option
@data_options
def sigmoid(model_path, out, no_data, split, data_dir, images, test_file, positive):
    """The sigmoid, with each image of a split drawn at its logit z."""
    from logicat.viz.plots import sigmoid_figure

    _check_out(out, model_path, data_dir, test_file=test_file)
    if no_data:
        _save(sigmoid_figure(), out)
        return
    model, names, _, y, X = _model_and_split(model_path, data_dir, split, images, test_file,
                                             positive)
    from logicat.nn.layers import logit_description

    _save(sigmoid_figure(model.decision_function(X), y, names,
                         z_label=logit_description(model.layers)), out)


@plot.command()
@model_option
@out_option
def weights(model_path, out):
    """The weights w as a 64x64 RGB image: positive and negative parts (per pixel / 255, also
    for a model trained with standardisation)."""
    from logicat.io.files import read_model
    from logicat.viz.weights import model_weights_figure

    _check_out(out, model_path, reads_data=False)
    _save(model_weights_figure(read_model(model_path)), out)


@plot.command()
@model_option
@out_option
@split_option
@data_dir_option
@data_options
def misclassified(model_path, out, split, data_dir, images, test_file, positive):
    """A grid of the misclassified images with the model's probabilities."""
    from logicat.viz.plots import misclassified_figure

    _check_out(out, model_path, data_dir, test_file=test_file)
    model, names, images, y, X = _model_and_split(model_path, data_dir, split, images,
                                                  test_file, positive)
    _save(misclassified_figure(images, y, model.proba(X), names), out)


@plot.command()
@model_option
@out_option
@data_dir_option
@data_options
def roc(model_path, out, data_dir, images, test_file, positive):
    """ROC curves on the train and test sets, with their AUC."""
    from logicat.viz.plots import roc_figure

    _check_out(out, model_path, data_dir, test_file=test_file)
    _save(roc_figure(_both_splits(model_path, data_dir, images, test_file, positive)), out)


@plot.command()
@model_option
@out_option
@click.option("--bins", type=click.IntRange(min=1), default=10, show_default=True)
@data_dir_option
@data_options
def calibration(model_path, out, bins, data_dir, images, test_file, positive):
    """Reliability diagram on the train and test sets."""
    from logicat.viz.plots import calibration_figure

    _check_out(out, model_path, data_dir, test_file=test_file)
    _save(calibration_figure(_both_splits(model_path, data_dir, images, test_file, positive),
                             n_bins=bins), out)


def _both_splits(model_path, data_dir, images, test_file, positive):
    """{split: (y, p)} of the training set (when it can be had) and the test set."""
    model, sets = _model_and_sets(model_path, data_dir, images, test_file, positive)
    return {name: (data.y, model.proba(model.features(data.images)))
            for name, data in sets.items()}
