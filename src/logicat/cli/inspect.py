"""``logicat evaluate`` and ``logicat info``: what a saved model does and what it is."""

from __future__ import annotations

import click

from logicat.cli.options import data_dir_option, model_option, model_option_or_argument, one_model


@click.command()
@model_option
@data_dir_option
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True,
              help="Which part of the cat data to evaluate on.")
@click.option("--cv", type=click.IntRange(min=2), default=None,
              help="Also run stratified K-fold cross-validation on the training set with the "
              "model's hyperparameters (folds seeded with 0); print mean and std per metric.")
def evaluate(model_path, data_dir, split, cv):
    """Accuracy, precision, recall, F1, ROC AUC, log loss and the confusion matrix of a model on
    the cat data; with --cv K, also K-fold cross-validation of its hyperparameters."""
    from logicat.data import load_catvnoncat
    from logicat.files import read_model
    from logicat.metrics import model_metrics

    model = read_model(model_path)
    model.image_preprocessing(model_path)
    data = load_catvnoncat(data_dir)
    images, y = (data.test_x, data.test_y) if split == "test" else (data.train_x, data.train_y)
    result = model_metrics(model, model.features(images), y)
    names = list(data.classes)
    click.echo(f"{split} set: {len(y)} images ({int((y == 1).sum())} {names[1]})")
    rows = [("accuracy", result.accuracy), ("precision", result.precision),
            ("recall", result.recall), ("F1", result.f1), ("ROC AUC", result.roc_auc),
            ("log loss", result.log_loss)]
    for name, value in rows:
        click.echo(f"{name:<10} {value:.4f}" if value is not None else f"{name:<10} n/a")
    width = max(len(n) for n in names) + 2
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, result.confusion_matrix, strict=True):
        click.echo(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    if cv is not None:
        from logicat.estimators import estimator_of

        _cross_validate(estimator_of(model, model_path),
                        model.features(data.train_x), data.train_y, cv)


def _cross_validate(clf, X, y, k):
    """Print stratified k-fold cross-validation of clf's hyperparameters on (X, y)."""
    import numpy as np

    from logicat.metrics import METRICS, cross_validate_metrics

    click.echo(f"stratified {k}-fold cross-validation on the training set ({len(y)} images, "
               "the model's hyperparameters, folds seeded with 0)")

    def on_fold(i, fold):
        click.echo(f"  fold {i + 1}/{k}: {fold.n_samples} held out, "
                   f"accuracy {fold.accuracy:.4f}")

    scores = cross_validate_metrics(clf, X, y, cv=k, random_state=0, on_fold=on_fold)
    for key, name in METRICS:
        values = scores[key]
        if np.isnan(values).any():
            click.echo(f"{name:<12} n/a (a fold held one class only)")
        else:
            click.echo(f"{name:<12} {values.mean():.4f} ± {values.std():.4f}")


@click.command()
@model_option_or_argument
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
def info(model_opt, model_arg, as_json):
    """Show a model file's metadata: data, preprocessing, hyperparameters, results."""
    import json

    from logicat.files import read_model

    model = read_model(one_model(model_opt, model_arg))
    meta = dict(model.metadata)
    if as_json:
        click.echo(json.dumps(meta, indent=2))
        return
    costs = model.cost_history
    meta["cost_history"] = (
        f"{len(costs)} values, first {costs[0]:.6f}, last {costs[-1]:.6f}" if len(costs) else "-"
    )
    click.echo(f"model: {model.description}")
    _echo_tree(meta)


def _echo_tree(d: dict, indent: int = 0) -> None:
    for key, value in d.items():
        if isinstance(value, dict):
            click.echo(" " * indent + f"{key}:")
            _echo_tree(value, indent + 2)
        else:
            click.echo(" " * indent + f"{key}: {value}")
