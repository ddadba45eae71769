"""One fit, from validated hyperparameters and arrays to a ``Fit``: the training pipeline.

``LogisticRegression.fit`` (scikit-learn's contract) and ``logicat train`` (which must start fast,
without scikit-learn) both train through ``fit`` here:

1. the hyperparameters are checked against ``CONSTRAINTS``, one table and one error template;
2. the sample weights are formed (``sample_weight`` times the class weights);
3. with ``early_stopping``, a stratified, seeded part of the examples is held out;
4. with ``standardize``, the features' mean and scale are fitted on the rest;
5. the initial parameters: zeros, small random numbers, or a previous fit's (``warm_start``);
6. the solver is chosen (``solver="auto"``: ``logicat.training.solvers``) and run by the one loop
   (``logicat.training.loop``), resumed from a checkpoint if asked; 7. the result is a ``Fit``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from logicat.core.errors import DataFileError, ModelFileError, ParameterError
from logicat.core.validation import check_memory, check_params
from logicat.data.splits import held_out_rows
from logicat.io.files import Snapshot
from logicat.model import Model
from logicat.nn.bounds import training_bytes
from logicat.nn.families import dense_layers, standardized
from logicat.nn.init import initial_params, layer_shapes, zero_params
from logicat.nn.layers import Layer
from logicat.nn.loss import mean_cost_and_dz
from logicat.nn.network import Network, param_names
from logicat.nn.output import Output, training_prior
from logicat.nn.scaling import fit_standardization, standardize
from logicat.training.batches import CHUNK_ROWS, FileRows, InMemory
from logicat.training.hyperparameters import (
    CONSTRAINTS,
    DEFAULTS,
    check_resumable,
    convergence_warning,
    data_fingerprint,
    json_params,
    run_meta,
)
from logicat.training.loop import FitResult, Trainer, is_cost_only
from logicat.training.optimizers import make_optimizer
from logicat.training.solvers import GramSolver, PrimalSolver, gram_obstacles, worth_it

__all__ = ["CONSTRAINTS", "DEFAULTS", "Fit", "Warm", "fit", "fit_file", "json_params"]

@dataclass
class Fit:
    """What ``fit`` produced: the loop's result and what the model needs to predict."""

    result: FitResult
    solver: str
    #: the model trained: its layers (the last a sigmoid), and one example's shape
    layers: list[Layer]
    input_shape: tuple[int, ...]
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None
    #: the ConvergenceWarning's message when tol or early stopping ran out of iterations
    warning: str | None = None
    #: test-time augmentation (``nn.tta``): False, True (the mirror) or "shifts"
    tta: bool | str = False
    #: the rows held out for early stopping (increasing), or None
    held_out: np.ndarray | None = None
    #: the fraction of (weighted) positives trained on (``logicat.nn.output.training_prior``)
    training_prior: float | None = None

    def to_model(self, params: Mapping[str, Any], classes: Sequence[Any] = (0, 1)) -> Model:
        """The trained classifier as a ``Model`` (what model files hold), with ``params``, the
        hyperparameters it was trained with, in its metadata."""
        return Model.of(self.layers, self.input_shape, [self.tensors()], classes=list(classes),
                        cost_history=self.result.cost_history,
                        validation_cost_history=self.result.val_cost_history,
                        n_iter=self.result.n_iter, metadata=self.metadata(params), tta=self.tta,
                        output=Output(training_prior=self.training_prior))

    def tensors(self) -> list[np.ndarray]:
        """The fit's tensors in the layers' order: the standardisation's statistics (when
        trained so) before the parameters."""
        stats = [] if self.feature_mean is None else [self.feature_mean, self.feature_scale]
        return [*stats, *self.result.params]

    def metadata(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """What a model file records of this fit: hyperparameters, solver, early stopping."""
        meta: dict[str, Any] = {"hyperparameters": json_params(params), "solver": self.solver}
        if self.result.best_iteration is not None:
            meta["early_stopping"] = {"best_iteration": self.result.best_iteration,
                                      "stopped": self.result.stopped}
        return meta


@dataclass
class Warm:
    """A previous fit to continue from (``warm_start``): its parameters, classes, statistics."""

    params: list[np.ndarray]
    classes: np.ndarray
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None


def fit(params: Mapping[str, Any], X: np.ndarray, y01: np.ndarray,
        sample_weight: np.ndarray | None = None, *, classes: Sequence[Any] = (0, 1),
        callbacks: Sequence = (), warm: Warm | None = None, resume: Snapshot | None = None,
        resume_source: str = "the checkpoint") -> Fit:
    """Train on X (m, n) float (C-contiguous, the training dtype) and y01 (m,) in {0, 1}.

    params : the estimator's hyperparameters (``LogisticRegression().get_params()``' names)
    sample_weight : (m,) weights >= 0 or None; ``params["class_weight"]`` multiplies into them
    classes : the labels behind 0 and 1 (the keys of a ``class_weight`` dict)
    callbacks : called after every iteration (see ``logicat.training.callbacks``)
    warm : continue from a previous fit (``warm_start``)
    resume : a checkpoint's snapshot to continue from, exactly
    """
    check_params(CONSTRAINTS, params)
    check_both_classes(y01, "y")
    X = np.ascontiguousarray(X)
    y = y01.astype(X.dtype)
    weights = class_weighted(y01, sample_weight, params["class_weight"], classes, X.dtype)
    meta = run_meta(params, X.shape[1], lambda: data_fingerprint(X, y, weights))
    if resume is not None:
        check_resumable(resume, meta(), resume_source)

    rng = np.random.default_rng(params["random_state"])
    n = X.shape[1]
    hidden, activation = architecture(params)
    _check_dense_memory(hidden, n, X.dtype, params["batch_size"] or len(y01))
    if warm is not None:
        start = _warm_params(warm, n, hidden, classes, X.dtype)
    else:
        start = initial_params(params["init"], n, hidden, X.dtype, params["random_state"], rng)
    train, val = _split(y01, params, rng, resume)
    X_tr, y_tr = (X, y) if val is None else (X[train], y[train])
    w_tr = weights if weights is None or val is None else weights[train]

    mean = scale = None
    if params["standardize"]:
        if warm is not None and warm.feature_mean is not None and len(warm.feature_mean) == n:
            mean, scale = warm.feature_mean, warm.feature_scale
        else:
            mean, scale = fit_standardization(X_tr, w_tr)
        mean, scale = mean.astype(X.dtype), scale.astype(X.dtype)
        X_tr = standardize(X_tr, mean, scale)

    validation = None
    if val is not None:
        X_val = X[val] if mean is None else standardize(X[val], mean, scale)
        validation = _validation_cost(X_val, y[val], params["loss"], activation)

    callbacks = list(callbacks)
    obstacles = gram_obstacles(
        engine=params["engine"], optimizer=params["optimizer"],
        lr_schedule=params["lr_schedule"], batch_size=params["batch_size"], m=len(y_tr),
        alpha=params["alpha"], weighted=w_tr is not None, early_stopping=val is not None,
        resume=resume is not None, callbacks=callbacks, weight_decay=params["weight_decay"],
    )
    solver_name = choose_solver(params, obstacles, len(y_tr), n, hidden)
    if solver_name == "gram":  # a fast path: the loop hands it no batches
        solver, data = GramSolver(X_tr, y_tr, start, params["loss"], activation), None
    elif params["engine"] == "torch":  # its batches are PyTorch's, shuffled by its generator
        solver = _torch_solver(params, X_tr, y_tr, start, w_tr, callbacks)
        data, rng = solver.batches, solver.draws
    else:
        data = InMemory(X_tr, y_tr, w_tr, batch_size=params["batch_size"],
                        shuffle=params["shuffle"], engine=params["engine"], loss=params["loss"],
                        n_layers=len(start) // 2, activation=activation,
                        alpha=float(params["alpha"]))
        solver = PrimalSolver(start, param_names(len(start) // 2), optimizer(params))
    result = _trainer(params, callbacks, validation, meta,
                      {} if val is None else {"validation_indices": val}).run(
        solver, resume, data=data, draws=rng)
    layers = dense_layers(hidden, activation)
    return Fit(result, solver_name, standardized(layers) if mean is not None else layers, (n,),
               mean, scale, convergence_warning(params, result),
               training_prior=training_prior(y_tr, w_tr))


def architecture(params: Mapping[str, Any]) -> tuple[tuple[int, ...], str]:
    """(hidden layer sizes, their activation): () for logistic regression."""
    return tuple(int(h) for h in params.get("hidden_layer_sizes", ())), params.get(
        "activation", "relu")


def check_training_memory(layers: Sequence, input_shape: tuple[int, ...], dtype: np.dtype,
                          rows: int, what: str) -> None:
    """Before anything is allocated: what training ``layers`` needs for steps of ``rows``
    examples (``logicat.nn.bounds.training_bytes``), for every model kind, or a one-line
    ``ParameterError`` saying ``what`` asked."""
    check_memory(training_bytes(layers, input_shape, dtype, rows),
                 f"{what} in steps of {rows} examples", ParameterError)


def _check_dense_memory(hidden: Sequence[int], n: int, dtype: np.dtype, rows: int) -> None:
    check_training_memory(dense_layers(hidden), (n,), dtype, rows, "the network of hidden "
                          f"layers {','.join(map(str, hidden)) or 'none'} on {n} features")


def check_both_classes(y01: np.ndarray, source: str) -> None:
    """A classifier learns from examples of both classes: refuse labels (m,) of one class only,
    wherever they come from (arrays, the cat-data files, ``--train-file``)."""
    present = np.unique(y01)
    if len(present) < 2:
        got = f"only class {int(present[0])}" if len(present) else "no labels"
        raise DataFileError(f"{source}: the training labels must hold both classes (0 and 1). "
                            f"Got {got} ({len(y01)} examples).")


def fit_file(params: Mapping[str, Any], source, *, chunk_rows: int = CHUNK_ROWS,
             callbacks: Sequence = ()) -> Fit:
    """Train out of core on ``source`` (``logicat.data.chunks.H5Images``), from zero weights.

    The primal solver over the file's rows (``batches.FileRows``): exact full-batch gradient
    descent streams the whole file once per iteration; with ``batch_size``, mini-batches of a
    block shuffle. Every update rule, schedule, L2 and ``tol`` work as in memory; a validation
    split, sample weights and standardisation need the data in memory and are refused.
    """
    check_params(CONSTRAINTS, params)
    for name in ("early_stopping", "standardize", "class_weight", "warm_start"):
        if params[name] not in (False, None):
            raise ParameterError(f"The {name!r} parameter needs the data in memory; "
                                 "out-of-core training does not support it.")
    if params["solver"] == "gram":
        raise ParameterError("The 'solver' parameter 'gram' needs the data in memory; "
                             "out-of-core training steps on w ('primal').")
    check_both_classes(source.y, str(source.path))
    dtype = np.dtype(params["dtype"])
    rng = np.random.default_rng(params["random_state"])
    hidden, activation = architecture(params)
    _check_dense_memory(hidden, source.n, dtype,
                        params["batch_size"] or min(chunk_rows, len(source.y)))
    start = initial_params(params["init"], source.n, hidden, dtype, params["random_state"], rng)
    data = FileRows(source, dtype, chunk_rows=chunk_rows, batch_size=params["batch_size"],
                    shuffle=params["shuffle"], engine=params["engine"], loss=params["loss"],
                    n_layers=len(start) // 2, activation=activation,
                    alpha=float(params["alpha"]))
    solver = PrimalSolver(start, param_names(len(start) // 2), optimizer(params))
    result = _trainer(params, list(callbacks), None, None, None).run(solver, data=data,
                                                                    draws=rng)
    return Fit(result, "primal", dense_layers(hidden, activation), (source.n,),
               warning=convergence_warning(params, result),
               training_prior=training_prior(source.y))


def _trainer(params, callbacks, validation, meta, extra_tensors) -> Trainer:
    """The one loop, set up by the hyperparameters: schedule, tol or early stopping."""
    return Trainer.of(params, callbacks, validation=validation, meta=meta,
                      extra_tensors=extra_tensors)


def choose_solver(params: Mapping[str, Any], obstacles: list[str], m: int, n: int,
                  hidden: Sequence[int] = ()) -> str:
    """The solver that runs: "gram" for "auto" exactly when nothing is in its way and it pays
    (``worth_it``), "primal" otherwise; the torch engine steps with ``torch.optim`` ("primal").
    An explicit "gram" that cannot run is a ``ParameterError`` saying why."""
    asked = params["solver"]
    if asked == "gram" and obstacles:
        raise ParameterError(
            "The 'solver' parameter is 'gram', which needs plain full-batch gradient descent; "
            f"this run has {', '.join(obstacles)}. Use solver='auto' or 'primal'."
        )
    units = hidden[0] if hidden else 1
    if asked == "gram" or (asked == "auto" and not obstacles
                           and worth_it(m, n, int(params["max_iter"]), units)):
        return "gram"
    return "primal"


def optimizer(params: Mapping[str, Any]):
    return make_optimizer(params["optimizer"], momentum=float(params["momentum"]),
                          beta_1=float(params["beta_1"]), beta_2=float(params["beta_2"]),
                          epsilon=float(params["epsilon"]),
                          weight_decay=float(params["weight_decay"]))


def _torch_solver(params, X, y, start, weights, callbacks):
    from logicat.engines.torch import require_torch

    require_torch()
    from logicat.training.torch_solver import TorchSolver

    if weights is not None:
        raise ParameterError("The engine 'torch' does not support sample or class weights. "
                             "Use engine='numpy'.")
    seed = params["random_state"] if isinstance(params["random_state"], numbers.Integral) else None
    return TorchSolver(
        X, y, start, loss=params["loss"], activation=architecture(params)[1],
        device=params.get("device", "auto"),
        optimizer=params["optimizer"], momentum=float(params["momentum"]),
        betas=(float(params["beta_1"]), float(params["beta_2"])),
        epsilon=float(params["epsilon"]), alpha=float(params["alpha"]),
        weight_decay=float(params["weight_decay"]), batch_size=params["batch_size"],
        shuffle=params["shuffle"], seed=seed,
        mode="auto",  # the CUDA-graph loop where it applies (the engine's docstring)
        cost_only_callbacks=all(is_cost_only(cb) for cb in callbacks),
        constant_lr=params["lr_schedule"] == "constant",
    )


def early_stopping_message(result: FitResult, unit: str = "iteration") -> str | None:
    """'Stopped early at iteration N; best validation cost at iteration k', when it did
    (``unit="epoch"`` for the ConvNet's epochs)."""
    if result.best_iteration is None or result.stopped != "converged":
        return None
    return (f"Stopped early at {unit} {result.n_iter - 1}; best validation cost "
            f"{result.val_cost_history[result.best_iteration]:.6f} at {unit} "
            f"{result.best_iteration} (its parameters are kept).")


# ------------------------------------------------------------------------- the pieces
def _warm_params(warm: Warm, n: int, hidden, classes, dtype) -> list[np.ndarray]:
    if warm.params[0].shape[0] != n:
        raise ParameterError(
            f"warm_start: X has {n} features, but the previous fit had {warm.params[0].shape[0]}."
        )
    shapes = [p.shape for p in zero_params(layer_shapes(n, hidden))]
    if [p.shape for p in warm.params] != shapes:
        raise ParameterError("warm_start: hidden_layer_sizes differ from the previous fit's.")
    if not np.array_equal(warm.classes, np.asarray(classes)):
        raise ParameterError(
            f"warm_start: y has the classes {np.asarray(classes).tolist()}, but the previous fit "
            f"had {np.asarray(warm.classes).tolist()}."
        )
    return [np.array(p, dtype=dtype) for p in warm.params]


def class_weighted(y01: np.ndarray, sample_weight: np.ndarray | None, class_weight,
                   classes: Sequence[Any], dtype) -> np.ndarray | None:
    """sample_weight times the class weights, shape (m,) in ``dtype``; None if neither.

    "balanced" is m / (2 * count of the class), as in scikit-learn; a dict maps labels to weights
    (labels it leaves out weigh 1; a key that is not a label of y is refused).
    """
    if sample_weight is None and class_weight is None:
        return None
    y01 = y01.astype(int)
    s = np.ones(len(y01)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if class_weight == "balanced":
        counts = np.bincount(y01, minlength=2)
        per_class = len(y01) / (2.0 * np.maximum(counts, 1))
        s = s * per_class[y01]
    elif class_weight is not None:
        labels = np.asarray(classes).tolist()
        if unknown := [key for key in class_weight if key not in labels]:
            raise ParameterError(f"The 'class_weight' parameter's keys must be labels of y, one "
                                 f"of {labels}. Got {', '.join(map(repr, unknown))} instead.")
        per_class = np.array([float(class_weight.get(c, 1.0)) for c in classes])
        s = s * per_class[y01]
    for c in (0, 1):
        if not s[y01 == c].sum() > 0:
            raise ParameterError(
                "A binary classifier: both classes need a positive total sample weight. "
                f"Got 0 for class {classes[c]!r} instead."
            )
    return s.astype(dtype)


def _split(y01: np.ndarray, params, rng: np.random.Generator, resume: Snapshot | None):
    """Stratified (train, validation) indices for early stopping; (None, None) without.

    The rows held out are ``data.splits.held_out_rows``' (drawn by ``rng``); a resumed run takes
    the checkpoint's.
    """
    if not params["early_stopping"]:
        return None, None
    m = len(y01)
    if resume is not None:
        val = np.asarray(resume.tensors["validation_indices"], dtype=np.intp)
        if val.size and (val.min() < 0 or val.max() >= m):
            raise ModelFileError(f"{resume.source}: the checkpoint holds out rows up to "
                                 f"{val.max()}, but the training set has {m}.")
    else:
        val = held_out_rows(y01, float(params["validation_fraction"]), rng)
    return np.setdiff1d(np.arange(m), val), val


def _validation_cost(X_val: np.ndarray, y_val: np.ndarray, loss: str, activation: str):
    """params -> mean loss on the validation set (no penalty, no weights)."""

    def cost(params: list[np.ndarray]) -> float:
        z = Network.from_params(params, activation).decision_function(X_val)
        return mean_cost_and_dz(z, y_val, loss)[0]

    return cost


