"""``LogisticRegression``: the cat classifier with scikit-learn's estimator contract.

``__init__`` only stores keyword hyperparameters; ``fit`` validates them and the data, trains by
gradient descent through the chosen engine, and sets the trailing-underscore attributes. With the
defaults it is exactly the lesson's training run; every other option is off until asked for.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from logicat.engines import ENGINES, TRAINERS, engine_names, numpy_objective
from logicat.loss import LOSSES, sigmoid
from logicat.objectives import weighted_objective, with_l2
from logicat.optim import Callback, Plateau, Snapshot, Trainer
from logicat.optimizers import OPTIMIZERS, make_optimizer
from logicat.scaling import fit_standardization, standardize
from logicat.schedules import SCHEDULES, make_schedule

DTYPES = ("float64", "float32")
INITS = ("zeros", "random")
#: Hyperparameters that may differ between a checkpointed run and its resumption.
_RESUME_MAY_DIFFER = frozenset({"max_iter", "callbacks", "device", "warm_start"})


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
        Zero weights (the lesson), or small random weights N(0, 0.01^2) drawn with
        ``random_state``.
    random_state : int, numpy Generator or None, default None
        Seed for ``init="random"``, the mini-batch shuffling and the validation split.
    engine : str, default "numpy"
        How the cost and gradients are computed (see ``logicat.engines``): "numpy" (hand-derived,
        a fused numba kernel when available), "autograd" (logicat's own graph) or "torch".
        For plain full-batch gradient descent with "numpy" (the lesson's run), ``fit`` steps in
        the span of the examples instead, w = w0 + X^T a (``logicat.fast.gram``): the same
        iterates to ~1e-15, m numbers per step instead of n.
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where engines that can use an accelerator run ("auto": CUDA if available); the NumPy
        engines always run on the CPU.
    callbacks : sequence of callables, optional
        Each is called with a ``TrainingState`` after every iteration; returning True stops.
        Callbacks with ``cost_only = True`` read only the iteration and the cost (the span path
        passes ``coef=None``). See ``logicat.callbacks``: ``PrintCost``, ``ProgressBar``,
        ``EarlyStopping``, ``Checkpoint``, ``TerminateOnNaN``, ``GracefulInterrupt``.
    alpha : float >= 0, default 0.0
        L2 regularisation: the term alpha / (2m) ||w||^2 is added to J (m = number of training
        examples, or the sum of the sample weights; the bias is not penalised). This is
        scikit-learn's ``LogisticRegression(C=1/alpha)``: alpha = 1 / C.
    optimizer : {"gd", "momentum", "nesterov", "adam"}, default "gd"
        The update rule (see ``logicat.optimizers``): plain gradient descent, heavy-ball
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
        is used as given (see ``logicat.schedules``).
    lr_decay : float >= 0, default 0.0
        d of the "inverse" and "exponential" schedules.
    tol : float >= 0 or None, default None
        Stop when the cost has changed by less than ``tol`` (|J_t - J_{t-1}| < tol) in each of
        ``n_iter_no_change`` iterations in a row - or, with ``early_stopping``, when the
        validation cost has not improved on its best by ``tol`` for that many iterations; a
        ``ConvergenceWarning`` says so when ``max_iter`` comes first. None: always run
        ``max_iter`` iterations, without warning.
    n_iter_no_change : int >= 1, default 5
        Patience of the ``tol`` rule.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training set (stratified), watch its cost after
        every iteration, stop by the ``tol`` rule on it (``tol=None`` counts as 0), and keep
        the parameters with the lowest validation cost.
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
        With ``early_stopping``, the validation cost after each iteration.
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
        resume_from : path of a checkpoint written by ``logicat.callbacks.Checkpoint`` (or on
            Ctrl-C) from a fit with the same data and hyperparameters (``max_iter`` may differ):
            training continues after the checkpoint's iteration, bit for bit as if it had never
            stopped.

        Returns
        -------
        self
        """
        self._validate_hyperparameters()
        warm = self.warm_start and hasattr(self, "coef_")
        previous = (self.coef_, self.intercept_, self.classes_) if warm else None
        prev_stats = getattr(self, "feature_mean_", None), getattr(self, "feature_scale_", None)
        X, y = validate_data(self, X, y, dtype=self.dtype, order="C")
        y01 = self._encode_labels(y).astype(X.dtype)
        weights = self._sample_weights(X, y01, sample_weight)  # (m,) or None

        snapshot = None
        if resume_from is not None:
            from logicat.checkpoint import load_checkpoint

            snapshot = load_checkpoint(resume_from)
            self._check_resumable(snapshot, resume_from, X, y01, weights)

        rng = np.random.default_rng(self.random_state)
        w, b = self._initial_parameters(X.shape[1], X.dtype, rng)
        train_idx, val_idx = self._split(y01, rng, snapshot)
        X_tr, y_tr = (X, y01) if val_idx is None else (X[train_idx], y01[train_idx])
        w_tr = weights if weights is None or val_idx is None else weights[train_idx]

        if self.standardize:
            if warm and prev_stats[0] is not None and len(prev_stats[0]) == X.shape[1]:
                mean, scale = prev_stats
            else:
                mean, scale = fit_standardization(X_tr, w_tr)
            self.feature_mean_, self.feature_scale_ = mean.astype(X.dtype), scale.astype(X.dtype)
            X_tr = standardize(X_tr, self.feature_mean_, self.feature_scale_)
        else:
            for name in ("feature_mean_", "feature_scale_"):
                self.__dict__.pop(name, None)

        if previous is not None:
            w, b = self._warm_parameters(previous, X.shape[1], X.dtype)

        if self.engine in TRAINERS:
            self._check_trainer_options(weights, snapshot)
            result = TRAINERS[self.engine](self, X_tr, y_tr, w, b)
        elif self._plain_full_batch_gd(X_tr, w_tr, val_idx, snapshot):
            result = self._train_in_span(X_tr, y_tr, w, b, rng, X, y01)
        else:
            result = self._train(X_tr, y_tr, w_tr, w, b, rng, X, y01, weights, val_idx, snapshot)

        self.coef_ = result.coef
        self.intercept_ = float(result.intercept)
        self.cost_history_ = result.cost_history
        self.validation_cost_history_ = result.val_cost_history
        self.n_iter_ = result.n_iter
        if (self.tol is not None or self.early_stopping) and result.stopped == "max_iter":
            warnings.warn(
                f"LogisticRegression: max_iter={self.max_iter} reached before the "
                f"{'validation cost stopped improving' if self.early_stopping else 'cost settled'}"
                f" (by tol={self.tol or 0.0} for n_iter_no_change={self.n_iter_no_change} "
                "iterations); increase max_iter or the learning rate.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _plain_full_batch_gd(self, X, s, val_idx, snapshot) -> bool:
        """True for the lesson's kind of run, which ``logicat.fast.gram`` computes in the span
        of the examples (m numbers per step instead of n): the numpy engine, plain full-batch
        gradient descent at a fixed learning rate, no L2, weights, validation split, tol or
        resume, callbacks that read only the cost, and enough iterations for it to pay."""
        from logicat.fast.gram import worth_it

        m, n = X.shape
        return (
            self.engine == "numpy"
            and self.optimizer == "gd"
            and self.lr_schedule == "constant"
            and (self.batch_size is None or self.batch_size >= m)
            and not self.alpha
            and s is None
            and val_idx is None
            and self.tol is None
            and snapshot is None
            and all(getattr(cb, "cost_only", False) is True for cb in self.callbacks or ())
            and worth_it(m, n, int(self.max_iter))
        )

    def _train_in_span(self, X, y01, w, b, rng, X_all, y_all):
        from threadpoolctl import threadpool_limits

        from logicat.fast.gram import gram_gradient_descent

        lr = float(self.learning_rate)
        meta = self._snapshot_meta(X_all, y_all, None)

        def snapshot(n_done, coef, intercept, history, worse_in_a_row):
            # The general loop's own format, so that a checkpoint taken here (Ctrl-C in
            # `logicat train`) resumes there; plain GD has no optimizer state to save.
            trainer = Trainer(None, X.shape[0], optimizer=make_optimizer("gd"),
                              schedule=lambda t: lr, max_iter=int(self.max_iter), rng=rng,
                              meta=meta)
            trainer._worse_in_a_row = worse_in_a_row
            return trainer._snapshot(n_done, coef, np.array([intercept]), history, None, None)

        # One BLAS thread: the products are small (m x m), and a second thread only adds
        # contention when the machine is busy.
        with threadpool_limits(limits=1, user_api="blas"):
            return gram_gradient_descent(
                X, y01, w, b,
                learning_rate=lr,
                max_iter=int(self.max_iter),
                loss=self.loss,
                callbacks=list(self.callbacks or ()),
                snapshot=snapshot,
            )

    def _snapshot_meta(self, X_all, y_all, weights_all) -> Callable[[], dict[str, Any]]:
        """What every checkpoint of this fit records about the run (computed once, on demand)."""
        fingerprint: dict[str, Any] = {}

        def meta() -> dict[str, Any]:
            if not fingerprint:
                fingerprint.update(
                    kind="LogisticRegression",
                    hyperparameters=self._json_params(),
                    classes=self.classes_.tolist(),
                    n_features=int(X_all.shape[1]),
                    data_sha256=_data_fingerprint(X_all, y_all, weights_all),
                )
            return fingerprint

        return meta

    def _train(self, X, y01, s, w, b, rng, X_all, y_all, weights_all, val_idx, snapshot):
        """The general loop (``logicat.optim.Trainer``) over the training part (X, y01, s)."""
        factory = ENGINES[self.engine]
        loss = self.loss
        if s is not None and self.engine != "numpy":
            raise ValueError(
                "sample_weight and class_weight are implemented by the 'numpy' engine only. "
                f"Got engine={self.engine!r} instead."
            )
        total = float(s.sum()) if s is not None else float(X.shape[0])

        def batch_objective(idx):
            Xb, yb = (X, y01) if idx is None else (X[idx], y01[idx])
            if s is None and self.engine == "numpy":
                objective = numpy_objective(Xb, yb, loss, compress=idx is None)
            elif s is None:
                objective = factory(Xb, yb, loss)
            else:
                objective = weighted_objective(Xb, yb, s if idx is None else s[idx], loss)
            return with_l2(objective, float(self.alpha), total) if self.alpha else objective

        validation = None
        if val_idx is not None:
            X_val, y_val = X_all[val_idx], y_all[val_idx]
            if self.standardize:
                X_val = standardize(X_val, self.feature_mean_, self.feature_scale_)
            validation = _validation_cost(X_val, y_val, loss)
        plateau = None
        if self.tol is not None or self.early_stopping:
            mode = "best" if self.early_stopping else "change"
            plateau = Plateau(float(self.tol or 0.0), int(self.n_iter_no_change), mode)
        meta = self._snapshot_meta(X_all, y_all, weights_all)

        trainer = Trainer(
            batch_objective,
            X.shape[0],
            optimizer=make_optimizer(
                self.optimizer,
                momentum=float(self.momentum),
                beta_1=float(self.beta_1),
                beta_2=float(self.beta_2),
                epsilon=float(self.epsilon),
            ),
            schedule=make_schedule(
                self.lr_schedule, float(self.learning_rate), float(self.lr_decay),
                int(self.max_iter),
            ),
            max_iter=int(self.max_iter),
            batch_size=self.batch_size,
            shuffle=bool(self.shuffle),
            rng=rng,
            plateau=plateau,
            validation=validation,
            callbacks=list(self.callbacks or ()),
            meta=meta,
            extra_tensors={} if val_idx is None else {"validation_indices": val_idx},
        )
        return trainer.run(w, b, resume=snapshot)

    # ---------------------------------------------------------------- validation
    def _validate_hyperparameters(self) -> None:
        _check_number("learning_rate", self.learning_rate, low=0, low_open=True)
        _check_int("max_iter", self.max_iter, low=1)
        _check_number("alpha", self.alpha, low=0)
        _check_number("momentum", self.momentum, low=0, high=1)
        _check_number("beta_1", self.beta_1, low=0, high=1)
        _check_number("beta_2", self.beta_2, low=0, high=1)
        _check_number("epsilon", self.epsilon, low=0, low_open=True)
        if self.batch_size is not None:
            _check_int("batch_size", self.batch_size, low=1, none_ok=True)
        _check_number("lr_decay", self.lr_decay, low=0)
        if self.tol is not None:
            _check_number("tol", self.tol, low=0, none_ok=True)
        _check_int("n_iter_no_change", self.n_iter_no_change, low=1)
        _check_number("validation_fraction", self.validation_fraction, low=0, high=1,
                      low_open=True)
        for name in ("shuffle", "early_stopping", "warm_start", "standardize"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"The {name!r} parameter must be a bool. Got {value!r} instead.")
        for name, allowed in (
            ("loss", LOSSES),
            ("dtype", DTYPES),
            ("init", INITS),
            ("engine", engine_names()),
            ("optimizer", OPTIMIZERS),
        ):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(
                    f"The {name!r} parameter must be one of {', '.join(map(repr, allowed))}. "
                    f"Got {value!r} instead."
                )
        if not callable(self.lr_schedule) and self.lr_schedule not in SCHEDULES:
            raise ValueError(
                "The 'lr_schedule' parameter must be one of "
                f"{', '.join(map(repr, SCHEDULES))} or a callable. "
                f"Got {self.lr_schedule!r} instead."
            )
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            raise ValueError(
                "The 'class_weight' parameter must be 'balanced', a dict or None. "
                f"Got {cw!r} instead."
            )
        rs = self.random_state
        if not (rs is None or isinstance(rs, (numbers.Integral, np.random.Generator))) or (
            isinstance(rs, numbers.Integral) and (isinstance(rs, bool) or rs < 0)
        ):
            raise ValueError(
                "The 'random_state' parameter must be an int >= 0, a numpy Generator or None. "
                f"Got {rs!r} instead."
            )

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Store the two labels in ``classes_`` and return y as 0/1 (1 = ``classes_[1]``)."""
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}; LogisticRegression needs exactly 2 classes in y. "
                f"Got {len(np.unique(y))} classes instead."
            )
        self.classes_, y01 = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                "LogisticRegression is a binary classifier: y must contain exactly 2 classes. "
                f"Got {len(self.classes_)} class(es) instead: {self.classes_[:10].tolist()}."
            )
        return y01

    def _sample_weights(self, X, y01, sample_weight) -> np.ndarray | None:
        """sample_weight times the class weights, shape (m,) in X's dtype; None if neither."""
        if sample_weight is None and self.class_weight is None:
            return None
        s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if self.class_weight is not None:
            y_labels = self.classes_[y01.astype(int)]
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y_labels)
            s = s * per_class[y01.astype(int)]
        for c in (0, 1):
            if not s[y01 == c].sum() > 0:
                raise ValueError(
                    "LogisticRegression is a binary classifier: both classes need a positive "
                    f"total sample weight. Got 0 for class {self.classes_[c]!r} instead."
                )
        return s.astype(X.dtype)

    def _initial_parameters(self, n: int, dtype: np.dtype, rng) -> tuple[np.ndarray, float]:
        if self.init == "zeros":
            return np.zeros(n, dtype=dtype), 0.0
        return rng.normal(0.0, 0.01, size=n).astype(dtype), 0.0

    def _warm_parameters(self, previous, n: int, dtype) -> tuple[np.ndarray, float]:
        coef, intercept, classes = previous
        if coef.shape != (n,):
            raise ValueError(
                f"warm_start: X has {n} features, but the previous fit had {coef.shape[0]}."
            )
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start: y has the classes {self.classes_.tolist()}, but the previous fit "
                f"had {np.asarray(classes).tolist()}."
            )
        return coef.astype(dtype, copy=True), float(intercept)

    def _split(self, y01, rng, snapshot) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Stratified (train, validation) indices for early stopping; (None, None) without."""
        if not self.early_stopping:
            return None, None
        m = len(y01)
        if snapshot is not None:
            val = np.asarray(snapshot.tensors["validation_indices"], dtype=np.intp)
        else:
            from sklearn.model_selection import train_test_split

            seed = int(rng.integers(2**31 - 1))
            try:
                _, val = train_test_split(
                    np.arange(m), test_size=self.validation_fraction, stratify=y01,
                    random_state=seed,
                )
            except ValueError as e:
                raise ValueError(
                    f"early_stopping: cannot hold out validation_fraction="
                    f"{self.validation_fraction} of {m} examples with both classes in each "
                    f"part ({e})."
                ) from None
            val = np.sort(val)
        train = np.setdiff1d(np.arange(m), val)
        return train, val

    def _check_trainer_options(self, weights, snapshot) -> None:
        unsupported = {
            "alpha": self.alpha != 0,
            "optimizer": self.optimizer != "gd",
            "lr_schedule": self.lr_schedule != "constant",
            "tol": self.tol is not None,
            "early_stopping": bool(self.early_stopping),
            "class_weight": self.class_weight is not None,
            "sample_weight": weights is not None,
            "resume_from": snapshot is not None,
        }
        used = [name for name, on in unsupported.items() if on]
        if used:
            raise ValueError(
                f"The engine {self.engine!r} trains with its own loop, which does not support "
                f"{', '.join(used)}. Use engine='numpy' for these options."
            )

    def _json_params(self) -> dict[str, Any]:
        from logicat.model_io import _json_params

        return _json_params(self.get_params())

    def _check_resumable(self, snapshot: Snapshot, path, X, y01, weights) -> None:
        meta = snapshot.meta
        if meta.get("kind") != "LogisticRegression":
            raise ValueError(f"{path}: not a LogisticRegression checkpoint.")
        saved = meta.get("hyperparameters", {})
        mine = self._json_params()
        for name in sorted(set(saved) | set(mine)):
            if name not in _RESUME_MAY_DIFFER and saved.get(name) != mine.get(name):
                raise ValueError(
                    f"{path}: the checkpoint was written with {name}={saved.get(name)!r}, but "
                    f"this estimator has {name}={mine.get(name)!r}. Resume with the same "
                    "hyperparameters."
                )
        if meta.get("data_sha256") != _data_fingerprint(X, y01, weights):
            raise ValueError(
                f"{path}: the checkpoint was written while training on other data (its SHA-256 "
                "differs). Resume with the same X, y and sample_weight."
            )
        if meta.get("optimizer") != self.optimizer:
            raise ValueError(f"{path}: the checkpoint's optimizer is {meta.get('optimizer')!r}.")

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
    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the fitted model to a safetensors file (atomically); see ``logicat.model_io``."""
        from logicat.model_io import save_model

        return save_model(self, path, **metadata)


def _check_number(name, value, *, low=None, high=None, low_open=False, none_ok=False) -> None:
    """Raise the one-template ValueError unless value is a finite real in the interval."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (low is None or (value > low if low_open else value >= low))
        and (high is None or value < high)
    )
    if not ok:
        left = "(" if low_open else "["
        interval = f"in {left}{low}, {'inf' if high is None else high})"
        what = f"a float {interval}" + (" or None" if none_ok else "")
        raise ValueError(f"The {name!r} parameter must be {what}. Got {value!r} instead.")


def _check_int(name, value, *, low, none_ok=False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        what = f"an int >= {low}" + (" or None" if none_ok else "")
        raise ValueError(f"The {name!r} parameter must be {what}. Got {value!r} instead.")


def _validation_cost(X_val: np.ndarray, y_val: np.ndarray, loss: str):
    """w, b -> mean loss on the validation set (no penalty, no weights)."""
    from logicat.loss import loss_and_dz

    def cost(w: np.ndarray, b: float) -> float:
        return float(loss_and_dz(X_val @ w + b, y_val, loss)[0].mean())

    return cost


def _data_fingerprint(X: np.ndarray, y01: np.ndarray, weights: np.ndarray | None) -> str:
    """SHA-256 of the training data as fit sees it, to refuse resuming on other data."""
    h = hashlib.sha256()
    for a in (X, y01, weights):
        if a is not None:
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()
