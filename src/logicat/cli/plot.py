"""``logicat plot <picture>``: each picture of a saved model, as PNG, SVG or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import data_dir_option, model_option, writable_output

out_option = click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
                          help="The picture file (.png, .svg or .pdf).")
split_option = click.option("--split", type=click.Choice(["test", "train"]), default="test",
                            show_default=True, help="Which part of the cat data to use.")


@click.group()
def plot() -> None:
    """Draw one picture of a model: learning-curve, sigmoid, weights, misclassified, roc,
    calibration."""


def _check_out(out: Path) -> Path:
    from logicat.plots import check_plot_path

    writable_output(out, "picture")
    try:
        return check_plot_path(out)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--out'") from None


def _model_and_data(model_path, data_dir):
    """The model, its class names and the cat data, checked to fit together."""
    from logicat.data import load_catvnoncat
    from logicat.model_io import load_model

    clf = load_model(model_path)
    if not clf.metadata_.get("preprocessing"):
        raise click.ClickException(f"{model_path}: this model was not trained on images.")
    data = load_catvnoncat(data_dir)
    names = [str(n) for n in clf.metadata_.get("class_names", data.classes)]
    return clf, names, data


def _split(clf, data, split):
    """(images (m, s, s, 3), y (m,), X (m, n)) of one split, as the model sees them."""
    from logicat.features import apply_preprocessing

    images, y = (data.test_x, data.test_y) if split == "test" else (data.train_x, data.train_y)
    return images, y, apply_preprocessing(images, clf.metadata_["preprocessing"], clf.coef_.dtype)


def _model_and_split(model_path, data_dir, split):
    clf, names, data = _model_and_data(model_path, data_dir)
    return (clf, names, *_split(clf, data, split))


def _save(fig, out: Path) -> None:
    from logicat.plots import save_figure

    save_figure(fig, out)
    click.echo(f"Saved {out}")


@plot.command("learning-curve")
@model_option
@out_option
def learning_curve(model_path, out):
    """The cost J at each iteration of the model's training."""
    from logicat.model_io import load_model
    from logicat.plots import learning_curves_figure

    _check_out(out)
    clf = load_model(model_path)
    label = f"learning rate = {clf.get_params().get('learning_rate')}"
    _save(learning_curves_figure({label: clf.cost_history_}), out)


@plot.command()
@model_option
@out_option
@click.option("--no-data", is_flag=True, help="Only the curve, without the model's logits.")
@split_option
@data_dir_option
def sigmoid(model_path, out, no_data, split, data_dir):
    """The sigmoid, with each image of a split drawn at its logit z."""
    from logicat.plots import sigmoid_figure

    _check_out(out)
    if no_data:
        _save(sigmoid_figure(), out)
        return
    clf, names, _, y, X = _model_and_split(model_path, data_dir, split)
    _save(sigmoid_figure(clf.decision_function(X), y, names), out)


@plot.command()
@model_option
@out_option
def weights(model_path, out):
    """The weights w as a 64x64 RGB image: positive and negative parts (per pixel / 255, also
    for a model trained with standardisation)."""
    from logicat.model_io import load_model
    from logicat.plots import pixel_weights, weights_figure

    _check_out(out)
    clf = load_model(model_path)
    spec = clf.metadata_.get("preprocessing") or {}
    names = [str(n) for n in clf.metadata_.get("class_names", clf.classes_)]
    _save(weights_figure(pixel_weights(clf), int(spec.get("image_size", 64)), names), out)


@plot.command()
@model_option
@out_option
@split_option
@data_dir_option
def misclassified(model_path, out, split, data_dir):
    """A grid of the misclassified images with the model's probabilities."""
    from logicat.plots import misclassified_figure

    _check_out(out)
    clf, names, images, y, X = _model_and_split(model_path, data_dir, split)
    _save(misclassified_figure(images, y, clf.predict_proba(X)[:, 1], names), out)


@plot.command()
@model_option
@out_option
@data_dir_option
def roc(model_path, out, data_dir):
    """ROC curves on the train and test sets, with their AUC."""
    from logicat.plots import roc_figure

    _check_out(out)
    _save(roc_figure(_both_splits(model_path, data_dir)), out)


@plot.command()
@model_option
@out_option
@click.option("--bins", type=click.IntRange(min=1), default=10, show_default=True)
@data_dir_option
def calibration(model_path, out, bins, data_dir):
    """Reliability diagram on the train and test sets."""
    from logicat.plots import calibration_figure

    _check_out(out)
    _save(calibration_figure(_both_splits(model_path, data_dir), n_bins=bins), out)


def _both_splits(model_path, data_dir):
    clf, _, data = _model_and_data(model_path, data_dir)
    curves = {}
    for split in ("train", "test"):
        _, y, X = _split(clf, data, split)
        curves[split] = (y, clf.predict_proba(X)[:, 1])
    return curves
