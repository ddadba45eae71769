"""``LogisticRegression``: the cat classifier with scikit-learn's estimator contract.

``__init__`` only stores keyword hyperparameters; ``fit`` validates the data (scikit-learn's
``validate_data``), encodes the labels, and trains through ``logicat.training.fit`` - the
pipeline ``logicat train`` uses too - then sets the trailing-underscore attributes from the
result. With the defaults it is exactly the lesson's training run; every other option is off
until asked for. Predicting, saving and loading go through ``logicat.model.Model``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from logicat.errors import ModelFileError, ParameterError
from logicat.files import load_checkpoint, read_model, save_model
from logicat.loss import sigmoid
from logicat.model import Model
from logicat.scaling import standardize
from logicat.training.fit import CONSTRAINTS, Warm, fit, json_params
from logicat.training.loop import Callback, FitResult
from logicat.validation import check_params


class LogisticRegression(ClassifierMixin, BaseEstimator):
    r"""Binary logistic regression trained by gradient descent.

    y_hat = sigma(x . w + b); J = mean loss over the m examples (+ an optional L2 term);
    w <- w - alpha dJ/dw, b <- b - alpha dJ/db for ``max_iter`` iterations. The defaults are the
    lesson's run: zero init, alpha = 0.005, 2000 full-batch iterations, cross-entropy, float64.

    Parameters
    ----------
    learning_rate : float > 0, default 0.005
        The step size alpha (the first one, when ``lr_schedule`` changes it).
    max_iter : int >= 1, default 2000
        Number of iterations. One iteration is one epoch: a pass over the training examples
        (one step in full-batch mode, one step per mini-batch with ``batch_size``).
    loss : {"cross_entropy", "squared_error"}, default "cross_entropy"
    dtype : {"float64", "float32"}, default "float64"
        Precision of the features, the parameters and the arithmetic.
    init : {"zeros", "random"}, default "zeros"
        Zero weights (the lesson), or N(0, 0.01^2) weights drawn with ``random_state``.
    random_state : int, numpy Generator or None, default None
        Seed for ``init="random"``, the mini-batch shuffling and the validation split.
    engine : {"numpy", "autograd", "torch"}, default "numpy"
        Who computes the cost and gradients (``logicat.training.objectives``): "numpy"
        (hand-derived, a fused numba kernel when available), "autograd" (logicat's own graph)
        or "torch" (PyTorch, stepping with ``torch.optim``).
    solver : {"auto", "primal", "gram"}, default "auto"
        How the iterations are computed (``logicat.training.solvers``): "primal" steps on w;
        "gram" steps in the span of the examples, w = w0 + X^T a with K = X X^T formed once (m
        numbers per step instead of n; the same iterates to ~1e-15). "auto" takes "gram"
        exactly when the run is plain full-batch gradient descent at a fixed learning rate with
        the numpy engine - no L2, no weights, no early stopping, no resume, callbacks that
        only read the cost (``cost_only``) - and forming K pays for itself
        (``solvers.worth_it``: more than ~108 iterations on the cat data); "primal" otherwise.
        The lesson's run takes "gram"; ``solver_`` says which ran.
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where engines that can use an accelerator run ("auto": CUDA if available); the NumPy
        engines always run on the CPU.
    callbacks : sequence of callables, optional
        Each is called with a ``TrainingState`` after every iteration; returning True stops.
        Callbacks with ``cost_only = True`` read only the iteration and the cost (the span
        solver passes ``params=None``). See ``logicat.training.callbacks``: ``PrintCost``,
        ``ProgressBar``, ``EarlyStopping``, ``Checkpoint``, ``TerminateOnNaN``,
        ``GracefulInterrupt``.
    alpha : float >= 0, default 0.0
        L2 regularisation: the term alpha / (2m) ||w||^2 is added to J (m = number of training
        examples, or the sum of the sample weights; the bias is not penalised). This is
        scikit-learn's ``LogisticRegression(C=1/alpha)``: alpha = 1 / C.
    optimizer : {"gd", "momentum", "nesterov", "adam"}, default "gd"
        The update rule (see ``logicat.training.optimizers``): plain gradient descent, heavy-ball
        momentum, Nesterov momentum, or Adam.
    momentum : float in [0, 1), default 0.9
        mu of ``optimizer="momentum"`` and ``"nesterov"``.
    beta_1, beta_2 : float in [0, 1), default 0.9 and 0.999
        Adam's decay rates of the running means of the gradient and its square.
    epsilon : float > 0, default 1e-8
        Adam's term added to the denominator.
    batch_size : int >= 1 or None, default None
        Examples per mini-batch; None (or >= m) is full-batch gradient descent, 1 is stochastic
        gradient descent.
    shuffle : bool, default True
        Shuffle the examples every epoch before cutting them into mini-batches (with
        ``random_state``). Unused in full-batch mode.
    lr_schedule : {"constant", "inverse", "exponential", "cosine"} or callable, default "constant"
        Learning rate of epoch t: alpha, alpha / (1 + d t), alpha exp(-d t), or
        alpha (1 + cos(pi t / max_iter)) / 2, with d = ``lr_decay``; a callable t -> alpha_t
        is used as given (see ``logicat.training.schedules``).
    lr_decay : float >= 0, default 0.0   d of the "inverse" and "exponential" schedules
    tol : float >= 0 or None, default None
        Stop when the cost has changed by less than ``tol`` (|J_t - J_{t-1}| < tol) in each of
        ``n_iter_no_change`` iterations in a row - or, with ``early_stopping``, when the
        validation cost has not improved on its best by ``tol`` for that many iterations; a
        ``ConvergenceWarning`` says so when ``max_iter`` comes first. None: always run
        ``max_iter`` iterations, without warning.
    n_iter_no_change : int >= 1, default 5   the patience of the ``tol`` rule
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training set (stratified), watch its cost after
        every iteration, stop by the ``tol`` rule on it (``tol=None`` counts as 0), and keep
        the parameters with the lowest validation cost. Iterations without improvement count
        only once the training cost has gone below its first value, so the lesson's rising
        start (~33 iterations) is not taken for overfitting.
    validation_fraction : float in (0, 1), default 0.1
    class_weight : "balanced", dict {label: weight} or None, default None
        Weights multiplying the sample weights of each class; "balanced" is
        m / (2 * count of the class), as in scikit-learn.
    warm_start : bool, default False
        Start ``fit`` from the previous fit's ``coef_`` and ``intercept_`` (and its
        standardisation) instead of ``init``; the optimizer's state starts afresh.
    standardize : bool, default False
        Standardise each feature with the mean and standard deviation of the training set
        (fitted in ``fit``, stored in ``feature_mean_`` and ``feature_scale_``, applied in
        every prediction and saved in model files); False keeps the features as given (the
        lesson's pixel / 255).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)   the weights w (of the standardised features, if so)
    intercept_ : float                       the bias b
    classes_ : ndarray of shape (2,)         the two labels, sorted; ``classes_[1]`` is positive
    n_features_in_ : int
    feature_names_in_ : ndarray of str       when X has column names (a DataFrame)
    n_iter_ : int                            iterations run by the last ``fit``
    cost_history_ : ndarray of shape (n_iter_,)
        J in each iteration's forward pass, before its update (``cost_history_[0]`` is the cost
        at the initial parameters: log 2 = 0.693147... for zero init and cross-entropy); with
        mini-batches, the mean of the epoch's mini-batch costs.
    validation_cost_history_ : ndarray of shape (n_iter_,) or None
        With ``early_stopping``, the validation cost after each iteration; ``best_iteration_``
        is the iteration whose parameters were kept.
    stopped_ : {"max_iter", "converged", "callback"}
        Why the last ``fit`` ended ("converged": by ``tol`` or early stopping).
    solver_ : {"primal", "gram"}
        The solver the last ``fit`` ran (see ``solver``).
    feature_mean_, feature_scale_ : ndarray of shape (n_features,)
        With ``standardize=True``: x' = (x - feature_mean_) / feature_scale_.
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.005,
        max_iter: int = 2000,
        loss: str = "cross_entropy",
        dtype: str = "float64",
        init: str = "zeros",
        random_state: Any = None,
        engine: str = "numpy",
        solver: str = "auto",
        device: str = "auto",
        callbacks: Sequence[Callback] | None = None,
        alpha: float = 0.0,
        optimizer: str = "gd",
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | None = None,
        shuffle: bool = True,
        lr_schedule: str | Callable[[int], float] = "constant",
        lr_decay: float = 0.0,
        tol: float | None = None,
        n_iter_no_change: int = 5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        class_weight: str | dict | None = None,
        warm_start: bool = False,
        standardize: bool = False,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.loss = loss
        self.dtype = dtype
        self.init = init
        self.random_state = random_state
        self.engine = engine
        self.solver = solver
        self.device = device
        self.callbacks = callbacks
        self.alpha = alpha
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.standardize = standardize

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary only: multiclass y is refused
        return tags

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        resume_from: str | Path | None = None,
    ) -> LogisticRegression:
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
        if self.warm_start and hasattr(self, "coef_"):
            warm = Warm([self.coef_, np.array([self.intercept_])], self.classes_,
                        getattr(self, "feature_mean_", None), getattr(self, "feature_scale_", None))
        X, y = validate_data(self, X, y, dtype=self.dtype, order="C")
        y01 = self._encode_labels(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        snapshot = None if resume_from is None else load_checkpoint(resume_from)
        done = fit(params, X, y01, sample_weight, classes=self.classes_,
                   callbacks=list(self.callbacks or ()), warm=warm, resume=snapshot,
                   resume_source=str(resume_from))
        self._set_fitted(done.result, self.classes_, X.shape[1], done.feature_mean,
                         done.feature_scale)
        self.solver_ = done.solver
        self.metadata_ = done.metadata(params)  # what a model file will record of this fit
        if done.warning:
            warnings.warn(done.warning, ConvergenceWarning, stacklevel=2)
        return self

    def _set_fitted(self, result: FitResult | Model, classes, n_features: int,
                    feature_mean: np.ndarray | None = None,
                    feature_scale: np.ndarray | None = None) -> LogisticRegression:
        """The one way a fitted estimator is made: from a training result or a model."""
        w, b = result.params
        self.coef_ = w
        self.intercept_ = float(b[0])
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
        for name, value in (("feature_mean_", feature_mean), ("feature_scale_", feature_scale)):
            if value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        return self

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Store the two labels in ``classes_`` and return y as 0/1 (1 = ``classes_[1]``)."""
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ParameterError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}; LogisticRegression needs exactly 2 classes in y. "
                f"Got {len(np.unique(y))} classes instead."
            )
        self.classes_, y01 = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ParameterError(
                "LogisticRegression is a binary classifier: y must contain exactly 2 classes. "
                f"Got {len(self.classes_)} class(es) instead: {self.classes_[:10].tolist()}."
            )
        return y01

    # ---------------------------------------------------------------- prediction
    def decision_function(self, X: Any) -> np.ndarray:
        """The logits z = X w + b, shape (m,) (X standardised first with ``standardize=True``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.coef_.dtype, order="C")
        mean = getattr(self, "feature_mean_", None)
        if mean is not None:
            X = standardize(X, mean, self.feature_scale_)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (m, 2): column 1 is p(classes_[1] | x) = sigma(z)."""
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The label of each row: ``classes_[1]`` where sigma(z) > 0.5, as the lesson decides."""
        p = sigmoid(self.decision_function(X))
        return self.classes_[(p > 0.5).astype(int)]

    # ---------------------------------------------------------------- model files
    def to_model(self) -> Model:
        """The fitted parameters as a ``logicat.model.Model`` (what model files hold)."""
        check_is_fitted(self)
        metadata = dict(getattr(self, "metadata_", None) or {})
        metadata["hyperparameters"] = json_params(self.get_params())
        return Model(
            params=[self.coef_, np.array([self.intercept_], dtype=self.coef_.dtype)],
            classes=self.classes_.tolist(),
            feature_mean=getattr(self, "feature_mean_", None),
            feature_scale=getattr(self, "feature_scale_", None),
            cost_history=self.cost_history_,
            validation_cost_history=getattr(self, "validation_cost_history_", None),
            n_iter=self.n_iter_,
            metadata=metadata,
        )

    @classmethod
    def from_model(cls, model: Model, source: str | Path = "the model") -> LogisticRegression:
        """A fitted estimator from a ``Model`` (read from the file ``source``, say), with its
        hyperparameters and ``metadata_``."""
        if model.n_layers != 1:
            raise ModelFileError(f"{source}: a network with {model.n_layers - 1} hidden "
                                 "layer(s), not a LogisticRegression.")
        known = cls().get_params()
        hyper = {k: v for k, v in (model.metadata.get("hyperparameters") or {}).items()
                 if k in known}
        clf = cls(**hyper)
        try:
            check_params(CONSTRAINTS, clf.get_params())
        except ParameterError as err:
            raise ModelFileError(f"{source}: its hyperparameters are invalid: {err}") from None
        clf._set_fitted(model, model.classes, model.n_features, model.feature_mean,
                        model.feature_scale)
        clf.metadata_ = model.metadata
        return clf

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the fitted model to a safetensors file (atomically); see ``logicat.files``."""
        model = self.to_model()
        save_model(model, path, **metadata)
        self.metadata_ = model.metadata
        return Path(path)


def load_model(path: str | Path) -> LogisticRegression:
    """Read a model file written by ``LogisticRegression.save`` or ``logicat train``: a fitted
    ``LogisticRegression`` with the file's header in ``metadata_``.

    Raises ``ModelFileError`` with a one-line message for a missing, truncated, corrupted or
    foreign file, or one whose tensors do not match its metadata.
    """
    return LogisticRegression.from_model(read_model(path), source=path)


def fit_dataset(dataset: Any, *, batch_size: int = 64, seed: int = 0, num_workers: int = 0,
                learning_rate: float = 0.005, max_iter: int = 100, loss: str = "cross_entropy",
                dtype: str = "float64", device: str = "auto",
                callbacks: Sequence[Callback] | None = None) -> LogisticRegression:
    """Train by mini-batch SGD with PyTorch on a ``torch.utils.data.Dataset`` of
    ``(pixels uint8, label)`` (``logicat.torch_backend.H5CatDataset``, ``ImageFolderDataset``;
    see ``logicat.torch_backend.solver.train_dataset``).

    Returns a fitted ``LogisticRegression`` with ``classes_ = [0, 1]`` (the dataset's labels;
    their names, ``dataset.classes``, go to ``metadata_["class_names"]`` and so into saved model
    files) that predicts on features as usual.
    """
    from logicat.torch_backend.solver import train_dataset

    result = train_dataset(dataset, batch_size=batch_size, seed=seed, num_workers=num_workers,
                           learning_rate=learning_rate, max_iter=max_iter, loss=loss, dtype=dtype,
                           device=device, callbacks=callbacks or ())
    clf = LogisticRegression(learning_rate=learning_rate, max_iter=max_iter, loss=loss,
                             dtype=dtype, engine="torch", device=device)
    clf._set_fitted(result, [0, 1], dataset.n_features)
    names = [str(c) for c in dataset.classes]
    clf.metadata_ = {"class_names": names, "positive_class": names[1]}
    return clf
