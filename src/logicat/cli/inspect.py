"""``logicat evaluate`` and ``logicat info``: what a saved model does and what it is."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from logicat.cli.options import data_dir_option, model_option


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
    from sklearn import metrics

    from logicat.data import load_catvnoncat
    from logicat.features import apply_preprocessing
    from logicat.model_io import load_model

    clf = load_model(model_path)
    data = load_catvnoncat(data_dir)
    images, y = (data.test_x, data.test_y) if split == "test" else (data.train_x, data.train_y)
    spec = clf.metadata_.get("preprocessing")
    if not spec:
        raise click.ClickException(f"{model_path}: this model was not trained on images.")
    X = apply_preprocessing(images, spec, clf.coef_.dtype)
    predicted = clf.predict(X)
    names = list(data.classes)
    cm = metrics.confusion_matrix(y, predicted, labels=[0, 1])
    click.echo(f"{split} set: {len(y)} images ({int((y == 1).sum())} {names[1]})")
    rows = [
        ("accuracy", metrics.accuracy_score(y, predicted)),
        ("precision", metrics.precision_score(y, predicted, zero_division=0)),
        ("recall", metrics.recall_score(y, predicted, zero_division=0)),
        ("F1", metrics.f1_score(y, predicted, zero_division=0)),
    ]
    from logicat.metrics import model_metrics

    more = model_metrics(clf, X, y)
    rows += [("ROC AUC", more.roc_auc), ("log loss", more.log_loss)]
    for name, value in rows:
        click.echo(f"{name:<10} {value:.4f}" if value is not None else f"{name:<10} n/a")
    width = max(len(n) for n in names) + 2
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, cm, strict=True):
        click.echo(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    if cv is not None:
        _cross_validate(clf, apply_preprocessing(data.train_x, spec, clf.coef_.dtype),
                        data.train_y, cv)


def _cross_validate(clf, X, y, k):
    """Print stratified k-fold cross-validation of clf's hyperparameters on (X, y)."""
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
@click.argument("model_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
def info(model_path, as_json):
    """Show a model file's metadata: data, preprocessing, hyperparameters, results."""
    from logicat.model_io import load_model

    clf = load_model(model_path)
    meta = dict(clf.metadata_)
    if as_json:
        click.echo(json.dumps(meta, indent=2))
        return
    costs = clf.cost_history_
    meta["cost_history"] = (
        f"{len(costs)} values, first {costs[0]:.6f}, last {costs[-1]:.6f}" if len(costs) else "-"
    )
    _echo_tree(meta)


def _echo_tree(d: dict, indent: int = 0) -> None:
    for key, value in d.items():
        if isinstance(value, dict):
            click.echo(" " * indent + f"{key}:")
            _echo_tree(value, indent + 2)
        else:
            click.echo(" " * indent + f"{key}: {value}")
