"""``LogisticRegression``: the cat classifier with scikit-learn's estimator contract.

``__init__`` only stores keyword hyperparameters; ``fit`` validates them and the data, trains by
gradient descent through the chosen engine, and sets the trailing-underscore attributes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from logicat.engines import ENGINES, TRAINERS, engine_names
from logicat.loss import LOSSES, sigmoid
from logicat.optim import Callback, gradient_descent

DTYPES = ("float64", "float32")
INITS = ("zeros", "random")


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression trained by full-batch gradient descent.

    y_hat = sigma(x . w + b); J = mean loss over the m examples; w <- w - alpha dJ/dw,
    b <- b - alpha dJ/db for ``max_iter`` iterations.

    Parameters
    ----------
    learning_rate : float > 0, default 0.005
        The step size alpha.
    max_iter : int >= 1, default 2000
        Number of gradient-descent iterations (each one uses all m examples).
    loss : {"cross_entropy", "squared_error"}, default "cross_entropy"
    dtype : {"float64", "float32"}, default "float64"
        Precision of the features, the parameters and the arithmetic.
    init : {"zeros", "random"}, default "zeros"
        Zero weights (the lesson), or small random weights N(0, 0.01^2) drawn with
        ``random_state``.
    random_state : int, numpy Generator or None
        Seed for ``init="random"``.
    engine : str, default "numpy"
        How the cost and gradients are computed (see ``logicat.engines``).
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where engines that can use an accelerator run ("auto": CUDA if available); the NumPy
        engines always run on the CPU.
    callbacks : sequence of callables, optional
        Each is called with a ``TrainingState`` after every iteration; returning True stops.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)   the weights w
    intercept_ : float                       the bias b
    classes_ : ndarray of shape (2,)         the two labels; ``classes_[1]`` is the positive one
    n_features_in_ : int
    n_iter_ : int                            iterations run
    cost_history_ : ndarray of shape (n_iter_,)
        J in each iteration's forward pass, before its update (``cost_history_[0]`` is the cost
        at the initial parameters: log 2 = 0.693147... for zero init and cross-entropy).
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

    # ------------------------------------------------------------------ training
    def fit(self, X: Any, y: Any) -> LogisticRegression:
        """Train on features X of shape (m, n) and labels y of shape (m,) with two classes."""
        self._validate_hyperparameters()
        X, y = validate_data(self, X, y, dtype=self.dtype, order="C")
        y01 = self._encode_labels(y).astype(X.dtype)
        w, b = self._initial_parameters(X.shape[1], X.dtype)
        if self.engine in TRAINERS:
            result = TRAINERS[self.engine](self, X, y01, w, b)
        else:
            result = gradient_descent(
                ENGINES[self.engine](X, y01, self.loss),
                w,
                b,
                learning_rate=float(self.learning_rate),
                max_iter=int(self.max_iter),
                callbacks=list(self.callbacks or ()),
            )
        self.coef_ = result.coef
        self.intercept_ = float(result.intercept)
        self.cost_history_ = result.cost_history
        self.n_iter_ = result.n_iter
        return self

    def _validate_hyperparameters(self) -> None:
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not (
            math.isfinite(lr) and lr > 0
        ):
            raise ValueError(
                f"The 'learning_rate' parameter must be a finite float > 0. Got {lr!r} instead."
            )
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, numbers.Integral)
            or self.max_iter < 1
        ):
            raise ValueError(
                f"The 'max_iter' parameter must be an int >= 1. Got {self.max_iter!r} instead."
            )
        for name, allowed in (
            ("loss", LOSSES),
            ("dtype", DTYPES),
            ("init", INITS),
            ("engine", engine_names()),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(
                    f"The {name!r} parameter must be one of {', '.join(map(repr, allowed))}. "
                    f"Got {value!r} instead."
                )

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Store the two labels in ``classes_`` and return y as 0/1 (1 = ``classes_[1]``)."""
        check_classification_targets(y)
        self.classes_, y01 = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                "LogisticRegression is a binary classifier: y must contain exactly 2 classes. "
                f"Got {len(self.classes_)} class(es) instead: {self.classes_[:10].tolist()}."
            )
        return y01

    def _initial_parameters(self, n: int, dtype: np.dtype) -> tuple[np.ndarray, float]:
        if self.init == "zeros":
            return np.zeros(n, dtype=dtype), 0.0
        rng = np.random.default_rng(self.random_state)
        return rng.normal(0.0, 0.01, size=n).astype(dtype), 0.0

    # ---------------------------------------------------------------- prediction
    def decision_function(self, X: Any) -> np.ndarray:
        """The logits z = X w + b, shape (m,)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.coef_.dtype, order="C")
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
