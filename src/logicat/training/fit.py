"""The one fit: from hyperparameters and examples to a ``Fit``, for every model and source.

``LogisticRegression.fit``, ``MLPClassifier.fit``, ``ConvNetClassifier.fit``,
``NetworkClassifier.fit`` and ``logicat train`` (which must start fast, without scikit-learn)
all train through ``fit`` here, the same way:

1. the hyperparameters are checked against their model's table (``CONSTRAINTS``), one error
   template;
2. the examples: features (m, n) or images (m, s, s, 3) in memory, or a packed HDF5 file
   (``logicat.data.chunks.H5Images``; ``image_fit.RowsOf`` for some of its rows), read a batch
   or a chunk at a time;
3. the labels: both classes, and their weights (``sample_weight`` times the class weights;
   ``training.labels``);
4. a checkpoint to resume is checked against this run (hyperparameters and data);
5. the model prepares its training (``training.dense_fit`` for features, ``training.image_fit``
   for images): its first parameters, the rows held out, the solver, the batches the loop hands
   it and the run's generator (``training.setup.Setup``);
6. the one loop runs it (``logicat.training.loop``), resumed from the checkpoint if asked;
7. the result is a ``Fit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from logicat.core.validation import check_params
from logicat.io.files import Snapshot
from logicat.model import Model
from logicat.nn.layers import Layer
from logicat.nn.layers import shapes as layer_shapes
from logicat.nn.layers import to_json as layers_to_json
from logicat.nn.output import Output
from logicat.training.batches import CHUNK_ROWS
from logicat.training.hyperparameters import (
    CONSTRAINTS,
    DEFAULTS,
    check_resumable,
    convergence_warning,
    json_params,
    run_meta,
)
from logicat.training.labels import check_labels, class_weighted
from logicat.training.loop import FitResult, Trainer
from logicat.training.setup import Setup

__all__ = ["CONSTRAINTS", "DEFAULTS", "Fit", "Warm", "fit", "json_params"]

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


def fit(params: Mapping[str, Any], examples: Any, y01: Any, callbacks: Sequence = (), *,
        sample_weight: np.ndarray | None = None, classes: Sequence[Any] = (0, 1),
        warm: Warm | None = None, resume: Snapshot | None = None,
        resume_source: str = "the checkpoint", distributed: bool = False,
        chunk_rows: int = CHUNK_ROWS) -> Fit:
    """Train the model of ``params`` on ``examples`` and labels ``y01`` (m,) in {0, 1}.

    params : the estimator's hyperparameters (``get_params()``' names): a model of features
        (``LogisticRegression``, ``MLPClassifier``) or of images (``ConvNetClassifier``,
        ``NetworkClassifier``)
    examples : features (m, n) float (the training dtype); images uint8 or [0, 1] floats
        (m, s, s, 3); or a packed file (``H5Images``), streamed
    callbacks : called after every epoch (see ``logicat.training.callbacks``)
    sample_weight : (m,) weights >= 0 or None; ``params["class_weight"]`` multiplies into them
    classes : the labels behind 0 and 1 (the keys of a ``class_weight`` dict)
    warm : continue from a previous fit (``warm_start``; features in memory)
    resume : a checkpoint's snapshot to continue from, exactly
    distributed : an image network trained data-parallel in this process's
        ``torch.distributed`` group (``image_fit.prepare``)
    chunk_rows : the rows read at a time from a packed file of features
    """
    model = _model_of(params)
    check_params(model.CONSTRAINTS, params)
    source = model.examples(examples, params, chunk_rows)
    y01 = check_labels(y01, source.m, source.name, source.noun)
    weights = class_weighted(y01, sample_weight, params["class_weight"], classes,
                             source.weight_dtype)
    meta = run_meta(params, source.n_features, lambda: source.fingerprint(y01, weights))
    if resume is not None:
        check_resumable(resume, meta(), resume_source)
    setup = model.prepare(params, source, y01, weights, classes=classes, warm=warm,
                          resume=resume, callbacks=callbacks, distributed=distributed)
    trainer = Trainer.of(params, callbacks, steps_per_epoch=setup.solver.steps_per_epoch,
                         validation=setup.validation, meta=_snapshot_meta(meta, setup),
                         watch_at_once=setup.scheduled, extra_tensors=_extra_tensors(setup))
    result = trainer.run(setup.solver, resume, data=setup.data, draws=setup.draws)
    mean, scale = setup.statistics or (None, None)  # a standardisation's
    return Fit(result, setup.solver_name, setup.layers, setup.input_shape, mean, scale,
               # a schedule decays to 0 by design: running to max_iter is no failure to
               # converge, and early stopping only guards against overfitting
               warning=None if setup.scheduled else convergence_warning(params, result),
               tta=setup.tta, held_out=setup.held_out, training_prior=setup.training_prior)


def _snapshot_meta(meta, setup: Setup):
    """What every checkpoint records of the run: ``meta`` (the estimator, its hyperparameters,
    the data's SHA-256) and the model, its list of layers as a model file names it."""
    architecture = {"layers": layers_to_json(setup.layers),
                    "input_shape": list(setup.input_shape), "tta": setup.tta}
    return lambda: {**meta(), "architecture": architecture}


def _extra_tensors(setup: Setup) -> dict[str, np.ndarray]:
    """The tensors a checkpoint holds besides the solver's: the rows held out for early
    stopping, and the layers' tensors fitted before training (a standardisation's)."""
    names = [name for name in layer_shapes(setup.layers, setup.input_shape)[0]
             if name not in setup.solver.names]
    extra = dict(zip(names, setup.statistics, strict=True))
    if setup.held_out is not None:
        extra["validation_indices"] = setup.held_out
    return extra


def _model_of(params: Mapping[str, Any]):
    """How the model of ``params`` trains: ``image_fit`` for an image network (its recipe,
    ``CONVNET_CONSTRAINTS``', names its augmentation: ``crop``), ``dense_fit`` for a model
    of features."""
    if "crop" in params:
        from logicat.training import image_fit

        return image_fit
    from logicat.training import dense_fit

    return dense_fit


def early_stopping_message(result: FitResult, unit: str = "iteration") -> str | None:
    """'Stopped early at iteration N; best validation cost at iteration k', when it did
    (``unit="epoch"`` for the ConvNet's epochs)."""
    if result.best_iteration is None or result.stopped != "converged":
        return None
    return (f"Stopped early at {unit} {result.n_iter - 1}; best validation cost "
            f"{result.val_cost_history[result.best_iteration]:.6f} at {unit} "
            f"{result.best_iteration} (its parameters are kept).")
