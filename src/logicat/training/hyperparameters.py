"""Every hyperparameter of logicat's estimators: its default, what it may be, its JSON form.

One table (``DEFAULTS`` and ``MLP_DEFAULTS``, ``CONSTRAINTS``), one error template ("The 'alpha'
parameter must be a float in [0, inf). Got -1.0 instead."), used by the estimators and
``logicat train`` alike; and what a checkpoint records of a run, to refuse resuming it with
other settings or other data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from logicat.convnet import HEADS
from logicat.errors import ModelFileError, ParameterError
from logicat.loss import LOSSES
from logicat.network import ACTIVATIONS, INITS
from logicat.training.loop import FitResult, Snapshot
from logicat.training.objectives import ENGINES
from logicat.training.optimizers import OPTIMIZERS, TORCH_OPTIMIZERS
from logicat.training.schedules import SCHEDULES
from logicat.training.solvers import SOLVERS
from logicat.validation import Interval, Options, Sizes

DTYPES = ("float64", "float32")

#: Every hyperparameter and its default: the lesson's run, every other option off. The estimator's
#: ``__init__`` defaults are these (a test checks it), and ``logicat train`` starts from them.
DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.005, "max_iter": 2000, "loss": "cross_entropy", "dtype": "float64",
    "init": "zeros", "random_state": None, "engine": "numpy", "solver": "auto",
    "device": "auto", "callbacks": None, "alpha": 0.0, "optimizer": "gd", "momentum": 0.9,
    "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "batch_size": None, "shuffle": True,
    "lr_schedule": "constant", "lr_decay": 0.0, "tol": None, "n_iter_no_change": 5,
    "early_stopping": False, "validation_fraction": 0.1, "class_weight": None,
    "warm_start": False, "standardize": False,
}
#: ``MLPClassifier``'s: the course's deep model (12288 -> 20 -> 7 -> 5 -> 1, ReLU, weights
#: randn / sqrt(n_in), learning rate 0.0075, 2500 iterations); the rest as above.
MLP_DEFAULTS: dict[str, Any] = {
    **DEFAULTS, "hidden_layer_sizes": (20, 7, 5), "activation": "relu", "init": "lecun_normal",
    "learning_rate": 0.0075, "max_iter": 2500,
}

#: What each hyperparameter may be: one table, one error template ("The 'alpha' parameter must
#: be a float in [0, inf). Got -1.0 instead.").
CONSTRAINTS: dict[str, list[Any]] = {
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "max_iter": [Interval(int, 1)],
    "loss": [Options(LOSSES)],
    "dtype": [Options(DTYPES)],
    "init": [Options(INITS)],
    "hidden_layer_sizes": [Sizes()],
    "activation": [Options(ACTIVATIONS)],
    "random_state": [Interval(int, 0), np.random.Generator, None],
    "engine": [Options(ENGINES)],
    "solver": [Options(SOLVERS)],
    "alpha": [Interval(float, 0, None)],
    "optimizer": [Options(OPTIMIZERS)],
    "momentum": [Interval(float, 0, 1)],
    "beta_1": [Interval(float, 0, 1)],
    "beta_2": [Interval(float, 0, 1)],
    "epsilon": [Interval(float, 0, None, closed="neither")],
    "batch_size": [Interval(int, 1), None],
    "shuffle": [bool],
    "lr_schedule": [Options(SCHEDULES), callable],
    "lr_decay": [Interval(float, 0, None)],
    "tol": [Interval(float, 0, None), None],
    "n_iter_no_change": [Interval(int, 1)],
    "early_stopping": [bool],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "class_weight": [Options(["balanced"]), dict, None],
    "warm_start": [bool],
    "standardize": [bool],
}
#: ``ConvNetClassifier``'s: the recipe chosen by cross-validation on the training images only
#: (BENCHMARKS.md, "Accuracy"). ``max_iter`` counts epochs; the learning rate is the peak of a
#: per-step schedule (linear warm-up over ``warmup`` of the steps, then cosine to 0).
CONVNET_DEFAULTS: dict[str, Any] = {
    "widths": (16, 32, 64, 128), "convs_per_block": 1, "head": "gap", "hidden": 0,
    "dropout": 0.0, "max_iter": 120, "batch_size": 32, "learning_rate": 3e-3,
    "optimizer": "adamw", "momentum": 0.9, "weight_decay": 5e-4, "lr_schedule": "cosine",
    "warmup": 0.05, "flip": True, "crop": "pad", "crop_pad": 4, "crop_min_scale": 0.6,
    "rotation": 0.0, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "mixup": 0.0,
    "label_smoothing": 0.0, "tta": True, "class_weight": None, "early_stopping": False,
    "validation_fraction": 0.1, "n_iter_no_change": 10, "random_state": 0, "device": "auto",
    "callbacks": None,
}
CONVNET_CONSTRAINTS: dict[str, list[Any]] = {
    "widths": [Sizes()],
    "convs_per_block": [Interval(int, 1, 4, closed="both")],
    "head": [Options(HEADS)],
    "hidden": [Interval(int, 0)],
    "dropout": [Interval(float, 0, 1)],
    "max_iter": [Interval(int, 1)],
    "batch_size": [Interval(int, 2)],
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "optimizer": [Options(TORCH_OPTIMIZERS)],
    "momentum": [Interval(float, 0, 1)],
    "weight_decay": [Interval(float, 0, None)],
    "lr_schedule": [Options(("cosine", "constant"))],
    "warmup": [Interval(float, 0, 1)],
    "flip": [bool],
    "crop": [Options(("none", "pad", "resized"))],
    "crop_pad": [Interval(int, 0, 32, closed="both")],
    "crop_min_scale": [Interval(float, 0, 1, closed="right")],
    "rotation": [Interval(float, 0, 180, closed="both")],
    "brightness": [Interval(float, 0, 1, closed="both")],
    "contrast": [Interval(float, 0, 1, closed="both")],
    "saturation": [Interval(float, 0, 1, closed="both")],
    "mixup": [Interval(float, 0, None)],
    "label_smoothing": [Interval(float, 0, 1)],
    "tta": [bool],
    "class_weight": [Options(["balanced"]), dict, None],
    "early_stopping": [bool],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(int, 1)],
    "random_state": [Interval(int, 0), None],
}
#: Hyperparameters that may differ between a checkpointed run and its resumption.
RESUME_MAY_DIFFER = frozenset({"max_iter", "callbacks", "device", "warm_start"})


def kind_of(params: Mapping[str, Any]) -> str:
    """Which estimator the hyperparameters are of (the name checkpoints and warnings use)."""
    if "widths" in params:
        return "ConvNetClassifier"
    return "MLPClassifier" if "hidden_layer_sizes" in params else "LogisticRegression"


def json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters that JSON can hold (callbacks and generators are dropped; tuples of
    sizes become lists)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, tuple | list) and all(isinstance(v, int | np.integer)
                                                   for v in value):
            out[key] = [int(v) for v in value]
        elif isinstance(value, tuple | list) and all(isinstance(v, float | np.floating)
                                                     for v in value):
            out[key] = [float(v) for v in value]
        elif value is None or isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def data_fingerprint(X: np.ndarray, y01: np.ndarray, weights: np.ndarray | None) -> str:
    """SHA-256 of the training data as fit sees it, to refuse resuming on other data."""
    h = hashlib.sha256()
    for a in (X, y01, weights):
        if a is not None:
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def run_meta(params, X, y, weights) -> Callable[[], dict[str, Any]]:
    """What every checkpoint of this fit records about the run (computed once, on demand)."""
    fingerprint: dict[str, Any] = {}

    def meta() -> dict[str, Any]:
        if not fingerprint:
            fingerprint.update(kind=kind_of(params), hyperparameters=json_params(params),
                               n_features=int(X.shape[1]),
                               data_sha256=data_fingerprint(X, y, weights))
        return fingerprint

    return meta


def convergence_warning(params: Mapping[str, Any], result: FitResult) -> str | None:
    """The message of the warning that ``tol`` or early stopping ran out of iterations."""
    if not ((params["tol"] is not None or params["early_stopping"])
            and result.stopped == "max_iter"):
        return None
    what = "validation cost stopped improving" if params["early_stopping"] else "cost settled"
    return (
        f"{kind_of(params)}: max_iter={params['max_iter']} reached before the {what} (by "
        f"tol={params['tol'] or 0.0} for n_iter_no_change={params['n_iter_no_change']} "
        "iterations); increase max_iter or the learning rate."
    )


def check_resumable(snapshot: Snapshot, mine: Mapping[str, Any], source: str) -> None:
    """The checkpoint must come from this kind of fit, these hyperparameters, this data."""
    meta = snapshot.meta
    if meta.get("kind") != mine["kind"]:
        raise ModelFileError(f"{source}: not a {mine['kind']} checkpoint.")
    saved, ours = meta.get("hyperparameters", {}), mine["hyperparameters"]
    for name in sorted(set(saved) | set(ours)):
        if name not in RESUME_MAY_DIFFER and saved.get(name) != ours.get(name):
            raise ParameterError(
                f"{source}: the checkpoint was written with {name}={saved.get(name)!r}, but "
                f"this estimator has {name}={ours.get(name)!r}. Resume with the same "
                "hyperparameters."
            )
    if meta.get("data_sha256") != mine["data_sha256"]:
        raise ParameterError(
            f"{source}: the checkpoint was written while training on other data (its SHA-256 "
            "differs). Resume with the same X, y and sample_weight."
        )
