"""``logicat evaluate`` and ``logicat info``: what a saved model does and what it is."""

from __future__ import annotations

import click

from logicat.cli.options import (
    data_dir_option,
    data_options,
    model_option,
    model_option_or_argument,
    one_model,
    prior_option,
)


@click.command()
@model_option
@data_dir_option
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True,
              help="Which part of the model's own data to evaluate on: the cat data's, or the "
              "photos train --images trained on and held out.")
@data_options
@click.option("--cv", type=click.IntRange(min=2), default=None,
              help="Also run stratified K-fold cross-validation with the model's "
              "hyperparameters (folds seeded with 0) on the training set (with --images or "
              "--test-file: on those images); print mean and std per metric.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object with every number, nothing else "
              "on stdout.")
@prior_option
def evaluate(model_path, data_dir, split, images, test_file, positive, cv, fmt, prior):
    """Accuracy, balanced accuracy, precision, recall, F1, ROC AUC, log loss, Brier score, ECE
    and the confusion matrix of a model on its own test images - the cat data's test set, or
    the photos train --images held out - or on your images (--images DIR, --test-file FILE);
    with --cv K, also K-fold cross-validation of its hyperparameters.

    A model trained on another file (--train-file) is scored only on data you name. With
    --prior, the model decides at that class mix (the models --cv trains too).
    """
    from logicat.cli.evaluation_data import check_data_options, scored_data
    from logicat.evaluate.metrics import bootstrap_intervals, classification_metrics
    from logicat.io.files import read_model

    check_data_options(images, test_file)
    model = read_model(model_path).at_prior(prior)
    model.check_memory()
    data, cv_data = scored_data(model, model_path, images=images, test_file=test_file,
                                data_dir=data_dir, split=split, positive=positive)
    proba = model.proba(model.features(data.images))
    result = classification_metrics(data.y, proba)
    intervals = bootstrap_intervals(data.y, proba)
    out = {"model": str(model_path), "prior": model.output.decision_prior(),
           "output": model.output.to_json(), "data": _data_json(data),
           "metrics": result.scalars(), "confusion_matrix": result.confusion_matrix.tolist(),
           "intervals": {"level": 0.95, "method": "percentile bootstrap, 2000 resamples of "
                         "the images, seed 0", **{k: list(v) for k, v in intervals.items()}}}
    if fmt == "text":
        _echo_metrics(model, data, result, intervals)
    if cv is not None:
        from logicat.estimators import estimator_of

        out["cross_validation"] = _cross_validate(
            estimator_of(model, model_path), model.features(cv_data.images), cv_data, cv,
            echo=fmt == "text", prior=model.output.prior)
    if fmt == "json":
        import json

        click.echo(json.dumps(_finite(out), indent=2, allow_nan=False))


def _data_json(data) -> dict:
    return {"source": data.source, "split": data.split, "n_samples": len(data.y),
            "n_positive": int(data.y.sum()), "classes": list(data.classes),
            "skipped": [{"path": str(path), "reason": why} for path, why in data.skipped]}


def _echo_metrics(model, data, result, intervals: dict) -> None:
    from logicat.evaluate.metrics import METRICS

    names = list(data.classes)
    if data.skipped:  # as logicat pack lists them
        click.echo(f"Skipped {len(data.skipped)} unreadable image(s):", err=True)
        from logicat.core.paths import shown

        for path, why in data.skipped:
            click.echo(f"  {shown(path)}: {why}", err=True)
    click.echo(f"{data.split or 'test'} set: {len(data.y)} images ({int(data.y.sum())} "
               f"{names[1]}) from {data.source}")
    if model.output.prior != "train":
        click.echo(f"the model: {model.output.describe()}")
    width = max(len(name) for _, name in METRICS)  # the numbers in one column
    for key, name in METRICS:
        value = getattr(result, key)
        low, high = intervals.get(key, (None, None))
        within = f"  [{low:.4f}, {high:.4f}]" if low is not None else ""
        click.echo(f"{name:<{width}} {value:.4f}{within}" if value is not None
                   else f"{name:<{width}} n/a")
    click.echo(f"[in brackets: 95 % bootstrap intervals, 2000 resamples of the {len(data.y)} "
               "images]")
    predicted = model.class_names  # the columns are the model's decisions, in its own names
    width = max(len(n) for n in names + predicted) + 2
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * width + "".join(f"{n:>{width}}" for n in predicted))
    for name, row in zip(names, result.confusion_matrix, strict=True):
        click.echo(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in row))


class _AtPrior:
    """A scikit-learn classifier that fits ``estimator`` (a clone of it) and answers at the
    class mix ``prior`` (``predict_proba(X, prior=...)``, every logicat estimator's): what
    ``evaluate --prior P --cv K`` refits in each fold."""

    def __init__(self, estimator, prior):
        self.estimator = estimator
        self.prior = prior

    def get_params(self, deep: bool = True) -> dict:
        return {"estimator": self.estimator, "prior": self.prior}

    def set_params(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, X, y):
        from sklearn.base import clone

        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X, prior=self.prior)


def _cross_validate(clf, X, data, k, echo: bool, prior="train") -> dict:
    """Stratified k-fold cross-validation of clf's hyperparameters on (X, data.y), each fold's
    model deciding at the class mix ``prior``: printed with ``echo``, returned as {k, data,
    n_samples, random_state, prior, mean, std, folds}."""
    import time

    import numpy as np

    from logicat.evaluate.metrics import METRICS, cross_validate_metrics

    y, where = data.y, "the training set" if data.split == "train" else data.source
    unit = "iterations" if getattr(clf, "batch_size", None) is None else "epochs"
    if echo:
        at = ("" if prior == "train" else ", each deciding at a class mix of "
              + ("0.5 positive (balanced)" if prior == "balanced" else f"{prior:.3g} positive"))
        click.echo(f"stratified {k}-fold cross-validation on {where} ({len(y)} images, "
                   "the model's hyperparameters, folds seeded with 0): trains "
                   f"{k} {type(clf).__name__}s of {clf.max_iter} {unit}{at}")
    folds = []
    start = time.perf_counter()

    def on_fold(i, fold):
        folds.append({"n_samples": fold.n_samples, **fold.scalars()})
        if echo:
            took = time.perf_counter() - start
            left = f"; about {_duration(took * (k - 1))} more" if i == 0 and k > 1 else ""
            click.echo(f"  fold {i + 1}/{k}: {fold.n_samples} held out, "
                       f"accuracy {fold.accuracy:.4f}{left}")

    # the folds' models decide at the model's class mix ("train": their own training mix)
    fitted = clf if prior == "train" else _AtPrior(clf, prior)
    scores = cross_validate_metrics(fitted, X, y, cv=k, random_state=0, on_fold=on_fold)
    width = max(len(name) for _, name in METRICS)
    for key, name in METRICS if echo else ():
        values = scores[key]
        if np.isnan(values).any():
            click.echo(f"{name:<{width}} n/a (a fold held one class only)")
        else:
            click.echo(f"{name:<{width}} {values.mean():.4f} ± {values.std():.4f}")
    return {"k": k, "data": data.source, "n_samples": len(y), "random_state": 0,
            "prior": prior,
            "mean": {key: float(scores[key].mean()) for key, _ in METRICS},
            "std": {key: float(scores[key].std()) for key, _ in METRICS}, "folds": folds}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _finite(value):
    """``value`` with every NaN (a metric a fold could not have) as None, for strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and value != value else value


@click.command()
@model_option_or_argument
@click.option("--json", "as_json", is_flag=True,
              help="Print the metadata as JSON, all of it, as the file holds it.")
def info(model_opt, model_arg, as_json):
    """Show a model file's layers and metadata: data, preprocessing, hyperparameters, results.

    First what the model is, its output step (ensemble members, calibration, the class mix it
    decides at) and how it resizes images; then its layers as a table, one row per layer with
    its output shape and number of parameters, the values trained apart from those measured on
    the data (normalisation, BatchNorm's running statistics). Hyperparameters that mean
    nothing for the model (momentum without a momentum optimizer, a hidden layers' activation
    without hidden layers, ...) are left out; --json prints the metadata as it is.
    """
    import json
    import shutil

    from logicat.io.files import read_model
    from logicat.nn.summary import meaningful, summary

    model = read_model(one_model(model_opt, model_arg))
    meta = dict(model.metadata)
    if as_json:
        click.echo(json.dumps(meta, indent=2))
        return
    params, layers = meta.get("hyperparameters") or {}, model.layers
    if isinstance(meta.get("hyperparameters"), dict):
        meta["hyperparameters"] = meaningful(params, params, layers)
    if isinstance(meta.get("architecture"), dict):
        meta["architecture"] = _architecture_left(meta, params, layers)
    spec = model.preprocessing
    if spec:
        size = spec["image_size"]
        # the resize policy of logicat.data.images.load_image, which predict, serve and pack use
        meta["preprocessing"] = {**spec, "resize": f"any image to {size}x{size} RGB by Lanczos, "
                                 "the aspect ratio not kept (EXIF orientation applied, "
                                 "transparency on white)"}
    costs = model.cost_history
    meta["cost_history"] = (
        f"{len(costs)} values, first {costs[0]:.6f}, last {costs[-1]:.6f}" if len(costs) else "-"
    )
    meta.pop("output", None)  # said in words below; --json shows the entry as it is
    click.echo(f"model: {model.description}")
    click.echo(f"output: {model.output.describe()}")
    if spec:  # what the model takes, and who resizes to it
        click.echo(f"input: RGB images of {size}x{size}; predict, explain and serve resize any "
                   f"image to {size}x{size} (Lanczos, the aspect ratio not kept); the ONNX "
                   f"export takes them resized: images (N, {size}, {size}, 3) uint8")
    if len(model.members) > 1:
        click.echo(f"layers, in each of its {len(model.members)} members:")
    else:
        click.echo("layers:")
    click.echo(summary(layers, model.input_shape,
                       width=shutil.get_terminal_size().columns))
    _echo_tree(meta)


def _architecture_left(meta: dict, params: dict, layers) -> dict:
    """The architecture's entries that the text of ``info`` shows nowhere else: not its layers
    (the table), its kind (the model's line), its input's shape and image size (the table's
    and the preprocessing's), no test-time augmentation, nor an entry the hyperparameters hold
    with the same value."""
    from logicat.nn.summary import meaningful

    shown = {"layers", "kind", "image_size", "hidden_layer_sizes", "input_shape"}
    return {k: v for k, v in meaningful(meta["architecture"], params, layers).items()
            if k not in shown and not (k in params and params[k] == v)
            and not (k == "tta" and v is False)}


def _echo_tree(d: dict, indent: int = 0) -> None:
    for key, value in d.items():
        if isinstance(value, dict):
            if value:  # an entry with nothing left to show is left out
                click.echo(" " * indent + f"{key}:")
                _echo_tree(value, indent + 2)
        else:
            click.echo(" " * indent + f"{key}: {value}")
