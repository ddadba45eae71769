"""What logicat's gradient-descent classifiers share: scikit-learn's contract around one fit.

``__init__`` (in each subclass) only stores keyword hyperparameters; ``fit`` validates the data
(scikit-learn's ``validate_data``), encodes the labels, and trains through
``logicat.training.fit`` - the pipeline ``logicat train`` uses too - then sets the
trailing-underscore attributes from the result (``_set_fitted``, the one way a fitted
estimator is made). Predicting, saving and loading go through the network
(``logicat.nn.network``) and ``logicat.model.Model``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from logicat.core.errors import ModelFileError, ParameterError
from logicat.core.validation import check_params
from logicat.io.files import load_checkpoint, save_model
from logicat.model import Model
from logicat.nn.architectures import dense
from logicat.nn.families import dense_layers, standardized
from logicat.nn.loss import sigmoid
from logicat.nn.network import Network
from logicat.nn.output import Output
from logicat.nn.scaling import standardize
from logicat.nn.summary import summary as layers_table
from logicat.training.fit import CONSTRAINTS, Warm, fit, json_params
from logicat.training.loop import FitResult


class BinaryClassifier(ClassifierMixin, BaseEstimator):
    """What every logicat estimator shares: one logit z per example (``decision_function``),
    p = sigma(z), the label where p > 0.5, and the fitted model as a ``Model`` (``to_model``)
    saved to a model file."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary only: multiclass y is refused
        return tags

    def _callbacks(self, unit: str) -> list:
        """The user's callbacks, and what ``verbose`` shows: a progress bar (1), and the cost
        every tenth of the run (2)."""
        from logicat.training.callbacks import PrintCost, ProgressBar

        check_params({"verbose": CONSTRAINTS["verbose"]}, {"verbose": self.verbose})
        callbacks = list(self.callbacks or ())
        if self.verbose >= 1:
            bar = ProgressBar(force=True, unit=unit)
            if self.verbose >= 2:
                callbacks.append(PrintCost(max(1, self.max_iter // 10), write=bar.write,
                                           unit=unit))
            callbacks.append(bar)
        return callbacks

    def predict_proba(self, X: Any, prior: float | str | None = None) -> np.ndarray:
        """Class probabilities, shape (m, 2): column 1 is p(classes_[1] | x) = sigma(z).

        prior : the class mix to decide at: "train" (the training mix, the lesson's and the
            default of the dense models), "balanced" or the fraction of positives in (0, 1);
            the logit is corrected by Bayes' rule (``logicat.nn.output``)"""
        p = sigmoid(self.decision_function(X, prior=prior))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any, prior: float | str | None = None) -> np.ndarray:
        """The label of each row: ``classes_[1]`` where sigma(z) > 0.5, as the lesson decides
        (at the class mix ``prior``, see ``predict_proba``)."""
        p = sigmoid(self.decision_function(X, prior=prior))
        return self.classes_[(p > 0.5).astype(int)]

    def summary(self, width: int = 80) -> str:
        """The fitted model's layers as a table, as Keras's ``model.summary()`` prints it: one
        row per layer with its type, output shape (one example's) and number of parameters,
        then the totals, trained and not (``logicat.nn.summary``); lines of at most ``width``
        characters (60 at least). An ensemble's members share these layers; the table is one
        member's. ``print(clf.summary())`` shows it."""
        check_is_fitted(self)
        model = self.to_model()
        return layers_table(model.layers, model.input_shape, width)

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the fitted model to a safetensors file (atomically); see ``logicat.io.files``."""
        model = self.to_model()
        save_model(model, path, **metadata)
        self.metadata_ = model.metadata
        return Path(path)


class GradientDescentClassifier(BinaryClassifier):
    """Base of ``LogisticRegression`` and ``MLPClassifier``: a binary classifier trained by the
    one training loop. Subclasses hold the parameters in their own attributes (``coef_`` /
    ``intercept_``, ``coefs_`` / ``intercepts_``) through ``_params`` and ``_store_params``."""

    # ------------------------------------------------------------------ training
    def fit(self, X: Any, y: Any, sample_weight: Any = None, *,
            resume_from: str | Path | None = None) -> GradientDescentClassifier:
        """Train on features X of shape (m, n) and labels y of shape (m,) with two classes.

        Parameters
        ----------
        X : array-like of shape (m, n)
        y : array-like of shape (m,), exactly two distinct labels (numbers or strings)
        sample_weight : array-like of shape (m,) of non-negative weights, or None
        resume_from : path of a checkpoint written by ``logicat.training.callbacks.Checkpoint``
            (or on Ctrl-C) from a fit with the same data and hyperparameters (``max_iter`` may
            differ): training continues after the checkpoint's iteration, bit for bit as if it
            had never stopped.

        Returns
        -------
        self
        """
        params = self.get_params()
        check_params(CONSTRAINTS, params)
        warm = None
        if self.warm_start and hasattr(self, "classes_"):
            warm = Warm(self._params(), self.classes_, getattr(self, "feature_mean_", None),
                        getattr(self, "feature_scale_", None))
        X, y = validate_data(self, pixels_as_features(X, self.dtype), y, dtype=self.dtype,
                             order="C")
        y01 = self._encode_labels(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        snapshot = None if resume_from is None else load_checkpoint(resume_from)
        done = fit(params, X, y01, sample_weight=sample_weight, classes=self.classes_,
                   callbacks=self._callbacks("iteration" if self.batch_size is None
                                             else "epoch"), warm=warm, resume=snapshot,
                   resume_source=str(resume_from))
        self._set_fitted(done.result, self.classes_, X.shape[1], done.feature_mean,
                         done.feature_scale)
        self.solver_ = done.solver
        self.training_prior_ = done.training_prior
        self.metadata_ = done.metadata(params)  # what a model file will record of this fit
        if done.warning:
            warnings.warn(done.warning, ConvergenceWarning, stacklevel=2)
        return self

    def _set_fitted(self, result: FitResult | Model, classes, n_features: int,
                    feature_mean: np.ndarray | None = None,
                    feature_scale: np.ndarray | None = None) -> GradientDescentClassifier:
        """The one way a fitted estimator is made: from a training result or a model (of the
        course's layers: ``from_model`` checked)."""
        self._store_params(list(result.params) if isinstance(result, FitResult) else
                           dense(result.layers).weights(result.layers, result.tensors))
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = int(n_features)
        self.cost_history_ = result.cost_history
        self.n_iter_ = int(result.n_iter)
        if isinstance(result, FitResult):
            self.validation_cost_history_ = result.val_cost_history
            self.best_iteration_ = result.best_iteration
            self.stopped_ = result.stopped
        else:
            self.validation_cost_history_ = result.validation_cost_history
            self.training_prior_ = result.output.training_prior
        for name, value in (("feature_mean_", feature_mean), ("feature_scale_", feature_scale)):
            if value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        return self

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Store the two labels in ``classes_`` and return y as 0/1 (1 = ``classes_[1]``)."""
        self.classes_, y01 = encode_binary_labels(type(self).__name__, y)
        return y01

    # ---------------------------------------------------------------- prediction
    def decision_function(self, X: Any, prior: float | str | None = None) -> np.ndarray:
        """The logits z, shape (m,) (X standardised first with ``standardize=True``), at the
        class mix ``prior`` (None or "train": the training mix, as the lesson decides)."""
        check_is_fitted(self)
        params = self._params()
        X = validate_data(self, pixels_as_features(X, params[0].dtype), reset=False,
                          dtype=params[0].dtype, order="C")
        mean = getattr(self, "feature_mean_", None)
        if mean is not None:
            X = standardize(X, mean, self.feature_scale_)
        z = Network.from_params(params, self._activation()).decision_function(X)
        try:  # the output step: the identity at the training mix
            return self._output().logit(z[None], prior)
        except ValueError as e:
            raise ParameterError(str(e)) from None

    def _output(self) -> Output:
        return Output(training_prior=getattr(self, "training_prior_", None))

    # ---------------------------------------------------------------- model files
    def to_model(self) -> Model:
        """The fitted parameters as a ``logicat.model.Model`` (what model files hold)."""
        check_is_fitted(self)
        metadata = dict(getattr(self, "metadata_", None) or {})
        metadata["hyperparameters"] = json_params(self.get_params())
        params = self._params()
        layers = dense_layers(tuple(int(W.shape[1]) for W in params[:-2:2]), self._activation())
        mean = getattr(self, "feature_mean_", None)
        stats = [] if mean is None else [mean, self.feature_scale_]
        return Model.of(standardized(layers) if mean is not None else layers,
                        (self.n_features_in_,), [[*stats, *params]],
                        classes=self.classes_.tolist(), cost_history=self.cost_history_,
                        validation_cost_history=getattr(self, "validation_cost_history_", None),
                        n_iter=self.n_iter_, metadata=metadata, output=self._output())

    @classmethod
    def from_model(cls, model: Model, source: str | Path = "the model"
                   ) -> GradientDescentClassifier:
        """A fitted estimator from a ``Model`` (read from the file ``source``, say), with its
        hyperparameters and ``metadata_``."""
        known = cls().get_params()
        found = dense(model.layers)  # the course's network, logistic regression without hidden
        if found is None or (found.hidden and "hidden_layer_sizes" not in known):
            raise ModelFileError(f"{source}: a {model.description}, not a {cls.__name__} (read "
                                 "it with load_model).")
        hyper = {k: v for k, v in (model.metadata.get("hyperparameters") or {}).items()
                 if k in known}
        if "hidden_layer_sizes" in known:
            hyper["hidden_layer_sizes"] = found.hidden
            hyper["activation"] = found.activation
        clf = cls(**hyper)
        try:
            check_params(CONSTRAINTS, clf.get_params())
        except ParameterError as err:
            raise ModelFileError(f"{source}: its hyperparameters are invalid: {err}") from None
        clf._set_fitted(model, model.classes, model.n_features,
                        *found.statistics(model.layers, model.tensors))
        clf.metadata_ = model.metadata
        return clf

    # ---------------------------------------------------------------- for subclasses
    def _params(self) -> list[np.ndarray]:
        raise NotImplementedError

    def _store_params(self, params: list[np.ndarray]) -> None:
        raise NotImplementedError

    def _activation(self) -> str:
        return "relu"


def pixels_as_features(X: Any, dtype) -> Any:
    """uint8 images (m, s, s, 3) - what ``load_image_folder`` and ``load_catvnoncat`` give - as
    the lesson's features pixel / 255 (``images_to_features``); anything else as it is (the
    estimators' own check refuses what is not features)."""
    if isinstance(X, np.ndarray) and X.dtype == np.uint8 and X.ndim == 4 and X.shape[3] == 3:
        from logicat.data.features import images_to_features

        return images_to_features(X, dtype=dtype)
    return X


def encode_binary_labels(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the two labels, sorted: ``classes``; y as 0/1, 1 = ``classes[1]``) for the estimator
    ``name``, or a ``ParameterError`` saying what y holds instead."""
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    if y_type != "binary":
        raise ParameterError(
            "Only binary classification is supported. The type of the target is "
            f"{y_type}; {name} needs exactly 2 classes in y. "
            f"Got {len(np.unique(y))} classes instead."
        )
    classes, y01 = np.unique(y, return_inverse=True)
    if len(classes) != 2:
        raise ParameterError(
            f"{name} is a binary classifier: y must contain exactly 2 classes. "
            f"Got {len(classes)} class(es) instead: {classes[:10].tolist()}."
        )
    return classes, y01

