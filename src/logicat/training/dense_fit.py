"""How a model of features trains - logistic regression and the course's networks: its
examples, its first parameters, its standardisation and its solver, prepared for the one fit.

``logicat.training.fit`` runs every fit the same way; for a model that reads features (m, n)
it asks ``examples`` where they come from (arrays in memory, or the rows of a packed HDF5
file streamed in chunks) and ``prepare`` the rest:

1. the initial parameters: zeros, small random numbers, or a previous fit's (``warm_start``);
2. with ``early_stopping``, a stratified, seeded part of the examples is held out;
3. with ``standardize``, the features' mean and scale are fitted on the rest;
4. the solver: "gram" (the span of the examples, a fast path) for ``solver="auto"`` when
   nothing is in its way and it pays (``logicat.training.solvers``), ``torch.optim`` steps
   for the torch engine, steps on the parameters ("primal") otherwise - with the batches the
   loop hands it and the run's generator.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError
from logicat.core.validation import check_memory
from logicat.nn.bounds import training_bytes
from logicat.nn.families import dense_layers, standardized
from logicat.nn.init import initial_params, layer_shapes, zero_params
from logicat.nn.loss import mean_cost_and_dz
from logicat.nn.network import Network, param_names
from logicat.nn.output import training_prior
from logicat.nn.scaling import fit_standardization, standardize
from logicat.training.batches import CHUNK_ROWS, FileRows, InMemory
from logicat.training.examples import DatasetFeatures, Features, FileFeatures
from logicat.training.hyperparameters import CONSTRAINTS
from logicat.training.labels import held_out
from logicat.training.optimizers import make_optimizer
from logicat.training.setup import Setup
from logicat.training.solvers import GramSolver, PrimalSolver, gram_obstacles, worth_it

__all__ = ["CONSTRAINTS", "choose_solver", "examples", "prepare"]


def examples(data: Any, params: Mapping[str, Any], chunk_rows: int = CHUNK_ROWS
             ) -> Features | FileFeatures | DatasetFeatures:
    """Where the features come from: a packed file (``H5Images``), a torch ``Dataset``
    (``DatasetFeatures``, trained by the torch engine) or an array (m, n)."""
    if not isinstance(data, np.ndarray) and all(hasattr(data, name) for name in (
            "__getitem__", "__len__", "labels", "n_features")):  # a torch Dataset as it is
        data = DatasetFeatures(data)
    if isinstance(data, DatasetFeatures):
        if params["engine"] != "torch":
            raise ParameterError("A torch Dataset trains with engine='torch' (PyTorch's "
                                 f"DataLoader reads it). Got engine={params['engine']!r}.")
        _refuse_in_memory_only(params, "a torch Dataset read by PyTorch's DataLoader")
        return DatasetFeatures(data.dataset, params["dtype"], data.num_workers)
    if hasattr(data, "chunks") and hasattr(data, "x"):
        _refuse_in_memory_only(params, "out-of-core training")
        if params["engine"] == "torch":
            raise ParameterError("Out-of-core training computes with engine='numpy' or "
                                 "'autograd' (PyTorch reads a file as a torch Dataset: "
                                 "logicat.engines.torch.H5CatDataset). Got engine='torch'.")
        if params["solver"] == "gram":
            raise ParameterError("The 'solver' parameter 'gram' needs the data in memory; "
                                 "out-of-core training steps on w ('primal').")
        return FileFeatures(data, params["dtype"], chunk_rows)
    return Features(data)


def _refuse_in_memory_only(params: Mapping[str, Any], what: str) -> None:
    for name in ("early_stopping", "standardize", "class_weight", "warm_start"):
        if params[name] not in (False, None):
            raise ParameterError(f"The {name!r} parameter needs the data in memory; {what} "
                                 "does not support it.")


def prepare(params: Mapping[str, Any], source: Features | FileFeatures | DatasetFeatures,
            y01: np.ndarray,
            weights: np.ndarray | None, *, classes: Sequence[Any] = (0, 1), warm=None,
            resume=None, callbacks: Sequence = (), **_: Any) -> Setup:
    """The model of ``params`` on ``source``'s features, ready for the loop (module docstring)."""
    if weights is not None and not isinstance(source, Features):
        raise ParameterError(f"Sample weights need the data in memory; {source.noun} read a "
                             f"batch at a time ({source.name}) are trained on unweighted.")
    rng = np.random.default_rng(params["random_state"])
    n, dtype = source.n_features, source.dtype
    hidden, activation = architecture(params)
    rows = params["batch_size"] or (min(source.chunk_rows, source.m)
                                    if isinstance(source, FileFeatures) else source.m)
    check_memory(training_bytes(dense_layers(hidden), (n,), dtype, rows),
                 f"the network of hidden layers {','.join(map(str, hidden)) or 'none'} on {n} "
                 f"features in steps of {rows} examples", ParameterError)
    if warm is not None:
        start = _warm_params(warm, n, hidden, classes, dtype)
    else:
        start = initial_params(params["init"], n, hidden, dtype, params["random_state"], rng)
    layers = dense_layers(hidden, activation)
    common = dict(loss=params["loss"], n_layers=len(start) // 2, activation=activation,
                  alpha=float(params["alpha"]), batch_size=params["batch_size"],
                  shuffle=params["shuffle"], engine=params["engine"])
    if isinstance(source, DatasetFeatures):  # PyTorch's DataLoader, shuffled by the loop
        solver = _torch_solver(params, None, None, start, None, callbacks, source)
        return Setup(solver, solver.batches, solver.draws, "primal", layers, (n,),
                     training_prior=training_prior(y01))
    if isinstance(source, FileFeatures):
        data = FileRows(source.source, dtype, chunk_rows=source.chunk_rows, **common)
        solver = PrimalSolver(start, param_names(len(start) // 2), optimizer(params))
        return Setup(solver, data, rng, "primal", layers, (n,),
                     training_prior=training_prior(y01))

    X, y = source.X, y01.astype(dtype)
    train, val = held_out(y01, params, rng, resume)
    X_tr, y_tr = (X, y) if val is None else (X[train], y[train])
    w_tr = weights if weights is None or val is None else weights[train]
    statistics = []
    mean = scale = None
    if params["standardize"]:
        if warm is not None and warm.feature_mean is not None and len(warm.feature_mean) == n:
            mean, scale = warm.feature_mean, warm.feature_scale
        else:
            mean, scale = fit_standardization(X_tr, w_tr)
        mean, scale = mean.astype(dtype), scale.astype(dtype)
        X_tr, statistics, layers = standardize(X_tr, mean, scale), [mean, scale], standardized(
            layers)
    validation = None
    if val is not None:
        X_val = X[val] if mean is None else standardize(X[val], mean, scale)
        validation = _validation_cost(X_val, y[val], params["loss"], activation)

    obstacles = gram_obstacles(
        engine=params["engine"], optimizer=params["optimizer"],
        lr_schedule=params["lr_schedule"], batch_size=params["batch_size"], m=len(y_tr),
        alpha=params["alpha"], weighted=w_tr is not None, early_stopping=val is not None,
        resume=resume is not None, callbacks=list(callbacks),
        weight_decay=params["weight_decay"],
    )
    name = choose_solver(params, obstacles, len(y_tr), n, hidden)
    if name == "gram":  # a fast path: the loop hands it no batches
        solver, data = GramSolver(X_tr, y_tr, start, params["loss"], activation), None
    elif params["engine"] == "torch":  # its batches are PyTorch's, shuffled by its generator
        solver = _torch_solver(params, X_tr, y_tr, start, w_tr, callbacks)
        data, rng = solver.batches, solver.draws
    else:
        data = InMemory(X_tr, y_tr, w_tr, **common)
        solver = PrimalSolver(start, param_names(len(start) // 2), optimizer(params))
    return Setup(solver, data, rng, name, layers, (n,), validation=validation, held_out=val,
                 statistics=statistics, training_prior=training_prior(y_tr, w_tr))


def architecture(params: Mapping[str, Any]) -> tuple[tuple[int, ...], str]:
    """(hidden layer sizes, their activation): () for logistic regression."""
    return tuple(int(h) for h in params.get("hidden_layer_sizes", ())), params.get(
        "activation", "relu")


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


def _torch_solver(params, X, y, start, weights, callbacks, dataset: DatasetFeatures | None = None):
    from logicat.engines.torch import require_torch
    from logicat.training.loop import is_cost_only

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
        **({} if dataset is None else {"dataset": dataset.dataset, "dtype": str(dataset.dtype),
                                       "num_workers": dataset.num_workers}),
    )


def _warm_params(warm, n: int, hidden, classes, dtype) -> list[np.ndarray]:
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


def _validation_cost(X_val: np.ndarray, y_val: np.ndarray, loss: str, activation: str):
    """params -> mean loss on the validation set (no penalty, no weights)."""

    def cost(params: list[np.ndarray]) -> float:
        z = Network.from_params(params, activation).decision_function(X_val)
        return mean_cost_and_dz(z, y_val, loss)[0]

    return cost
