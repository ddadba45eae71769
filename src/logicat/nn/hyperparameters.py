"""Every hyperparameter of logicat's families: its default, what it may be, and the names of
the choices (engines, solvers, schedules; the optimizers' are ``nn.optimizer_state``'s).

One table per family (``DEFAULTS`` and ``MLP_DEFAULTS`` with ``CONSTRAINTS`` for the dense
models, ``CONVNET_DEFAULTS`` with ``CONVNET_CONSTRAINTS``), one error template ("The 'alpha'
parameter must be a float in [0, inf). Got -1.0 instead."), used by the estimators,
``logicat train`` and the reader of model files alike. It imports no training code, so that
reading a model file does not import the trainer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError
from logicat.core.validation import Interval, Options, Sizes
from logicat.nn.families import HEADS, PRESETS
from logicat.nn.init import INITS
from logicat.nn.layers import ACTIVATIONS, MAX_UNITS
from logicat.nn.loss import LOSSES
from logicat.nn.optimizer_state import LEGACY_OPTIMIZERS, OPTIMIZERS
from logicat.nn.output import COMBINES, MAX_MEMBERS

#: who computes the gradients of the dense models (``training.objectives``)
ENGINES = ("numpy", "autograd", "torch")
#: how the dense models' iterations are computed (``training.solvers``)
SOLVERS = ("auto", "primal", "gram")
#: learning-rate schedules (``training.schedules``)
SCHEDULES = ("constant", "inverse", "exponential", "cosine")
#: the ConvNet's bounds, shared by its fit and the reader of its files: blocks and channels
#: (as ``ConvNetSpec.from_json`` reads them), epochs, images per step, a rate float32 holds
#: (AdamW's steps overflow far below float32's maximum), seeds NumPy and PyTorch both take;
#: the dense models share the bounds of iterations (or epochs) and seeds
MAX_BLOCKS, MAX_WIDTH = 8, 4096
#: a dense network's hidden layers, as its fit and the reader of its files both bound them
MAX_HIDDEN_LAYERS = 64
MAX_EPOCHS, MAX_BATCH, MAX_RATE, MAX_SEED = 10**6, 2**20, 1e3, 2**32 - 1
DTYPES = ("float64", "float32")

#: Every hyperparameter and its default: the lesson's run, every other option off. The estimator's
#: ``__init__`` defaults are these (a test checks it), and ``logicat train`` starts from them.
DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.005, "max_iter": 2000, "loss": "cross_entropy", "dtype": "float64",
    "init": "zeros", "random_state": None, "engine": "numpy", "solver": "auto",
    "device": "auto", "callbacks": None, "verbose": 0, "alpha": 0.0, "optimizer": "gd",
    "momentum": 0.9, "weight_decay": 0.0,
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
    "max_iter": [Interval(int, 1, MAX_EPOCHS, closed="both")],
    "loss": [Options(LOSSES)],
    "dtype": [Options(DTYPES)],
    "init": [Options(INITS)],
    "hidden_layer_sizes": [Sizes(0, MAX_HIDDEN_LAYERS, MAX_UNITS)],
    "activation": [Options(ACTIVATIONS)],
    "random_state": [Interval(int, 0, MAX_SEED, closed="both"), np.random.Generator, None],
    "engine": [Options(ENGINES)],
    "solver": [Options(SOLVERS)],
    "alpha": [Interval(float, 0, None)],
    "optimizer": [Options(OPTIMIZERS)],
    "weight_decay": [Interval(float, 0, MAX_RATE, closed="both")],
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
    "verbose": [Interval(int, 0, 2, closed="both")],
}
#: weight averaging over training: an exponential moving average of every step's weights, or
#: stochastic weight averaging (the mean of the weights after each epoch of the last part)
AVERAGES = ("ema", "swa")
#: ``ConvNetClassifier``'s: the recipe chosen by cross-validation on the training images only
#: (BENCHMARKS.md, "Accuracy"). ``max_iter`` counts epochs; the learning rate is the peak of a
#: per-step schedule (linear warm-up over ``warmup`` of the steps, then cosine to 0).
CONVNET_DEFAULTS: dict[str, Any] = {
    "widths": (16, 32, 64, 128), "convs_per_block": 1, "head": "gap", "hidden": 0,
    "dropout": 0.0, "max_iter": 120, "batch_size": 32, "learning_rate": 3e-3,
    "optimizer": "adamw", "momentum": 0.9, "weight_decay": 5e-4, "lr_schedule": "cosine",
    "warmup": 0.05, "flip": True, "crop": "pad", "crop_pad": 4, "crop_min_scale": 0.6,
    "rotation": 0.0, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "mixup": 0.0,
    "cutmix": 0.0,
    "label_smoothing": 0.0, "average": None, "average_decay": 0.99, "average_start": 0.75,
    "tta": True, "class_weight": None, "early_stopping": False,
    "validation_fraction": 0.1, "n_iter_no_change": 10, "n_members": 1, "members": "seeds",
    "combine": "logit", "calibration": None, "calibration_cv": 5, "prior": "train",
    "random_state": 0, "device": "auto", "callbacks": None, "verbose": 0,
}
#: ``NetworkClassifier``'s: the user's own ``layers`` (required), trained by the ConvNet's recipe
#: (its architecture's entries aside: the layers say it all, dropout included)
ARCHITECTURE_KEYS = ("widths", "convs_per_block", "head", "hidden", "dropout")
NETWORK_DEFAULTS: dict[str, Any] = {
    "layers": None, **{k: v for k, v in CONVNET_DEFAULTS.items() if k not in ARCHITECTURE_KEYS}}
#: each estimator's hyperparameters, by the estimator's name (what checkpoints and warnings say)
ESTIMATOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "LogisticRegression": DEFAULTS, "MLPClassifier": MLP_DEFAULTS,
    "ConvNetClassifier": CONVNET_DEFAULTS, "NetworkClassifier": NETWORK_DEFAULTS,
}


def estimator_name(params: Mapping[str, Any]) -> str:
    """The estimator whose hyperparameters ``params`` are: the one of ``ESTIMATOR_DEFAULTS``
    with exactly these names (a ``ParameterError`` names what differs, when none has)."""
    names = set(params)
    for name, defaults in ESTIMATOR_DEFAULTS.items():
        if names == set(defaults):
            return name
    closest = min(ESTIMATOR_DEFAULTS, key=lambda n: len(names ^ set(ESTIMATOR_DEFAULTS[n])))
    expected = set(ESTIMATOR_DEFAULTS[closest])
    differ = [f"{what} {sorted(these)}" for what, these in (
        ("have no", names - expected), ("miss", expected - names)) if these]
    raise ParameterError(f"The hyperparameters are no estimator's: against those of {closest}, "
                         f"the closest, they {' and '.join(differ)}.")


CONVNET_CONSTRAINTS: dict[str, list[Any]] = {
    "layers": [list, Options(tuple(PRESETS)), None],
    "widths": [Sizes(1, MAX_BLOCKS, MAX_WIDTH)],
    "convs_per_block": [Interval(int, 1, 4, closed="both")],
    "head": [Options(HEADS)],
    "hidden": [Interval(int, 0, MAX_WIDTH, closed="both")],
    "dropout": [Interval(float, 0, 1)],
    "max_iter": [Interval(int, 1, MAX_EPOCHS, closed="both")],
    "batch_size": [Interval(int, 2, MAX_BATCH, closed="both")],
    "learning_rate": [Interval(float, 0, MAX_RATE, closed="right")],
    "optimizer": [Options(OPTIMIZERS + LEGACY_OPTIMIZERS)],
    "momentum": [Interval(float, 0, 1)],
    "weight_decay": [Interval(float, 0, MAX_RATE, closed="both")],
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
    "mixup": [Interval(float, 0, MAX_RATE, closed="both")],
    "cutmix": [Interval(float, 0, MAX_RATE, closed="both")],
    "label_smoothing": [Interval(float, 0, 1)],
    "average": [Options(AVERAGES), None],
    "average_decay": [Interval(float, 0, 1, closed="neither")],
    "average_start": [Interval(float, 0, 1, closed="left")],
    "tta": [bool, Options(("shifts",))],
    "class_weight": [Options(["balanced"]), dict, None],
    "early_stopping": [bool],
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(int, 1, MAX_EPOCHS, closed="both")],
    "n_members": [Interval(int, 1, MAX_MEMBERS, closed="both")],
    "members": [Options(("seeds", "folds"))],
    "combine": [Options(COMBINES)],
    "calibration": [Options(("temperature",)), None],
    "calibration_cv": [Interval(int, 2, 20, closed="both")],
    "prior": [Options(("train", "balanced")), Interval(float, 0, 1, closed="neither")],
    "random_state": [Interval(int, 0, MAX_SEED, closed="both"), None],
    "verbose": [Interval(int, 0, 2, closed="both")],
}
