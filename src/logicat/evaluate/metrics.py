"""How good is a classifier: scikit-learn's metrics, gathered into one object.

Everything here is a thin wrapper over ``sklearn.metrics`` and ``sklearn.calibration``; the one
exception is the expected calibration error, which scikit-learn does not have (computed on the
bins of its ``calibration_curve``). The metrics take the true labels and the predicted
probabilities p(positive | x) and decide like the estimator: an example is predicted positive
where p > 0.5.

    report = classification_metrics(y_test, clf.predict_proba(X_test)[:, 1])
    report.accuracy, report.roc_auc, report.confusion_matrix, report.as_dict()

    scores = cross_validate_metrics(LogisticRegression(max_iter=500), X_train, y_train, cv=5)
    scores["accuracy"].mean(), scores["accuracy"].std()

    bootstrap_intervals(y_test, p)["accuracy"]      # (low, high): what the test set can say
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logicat.core.errors import ParameterError, ShapeError
from logicat.core.validation import Interval, Options, check_param


def accuracy_percent(predicted: ArrayLike, y: ArrayLike) -> float:
    """Accuracy in percent, computed as the lesson prints it: 100 - mean(|y_hat - y|) * 100.

    predicted, y : 0/1 arrays of shape (m,). (99.04306220095694 for the lesson's 207 of 209.)
    """
    predicted, y = np.asarray(predicted), np.asarray(y)
    return percent_correct(float(np.sum(np.abs(predicted - y))), len(y))


def percent_correct(wrong: float, m: float) -> float:
    """100 - (wrong / m) * 100: the lesson's formula from counts (summed over processes, say)."""
    return float(100 - (wrong / m) * 100)


#: The scalar metrics, in the order tables print them: (attribute, display name).
METRICS: tuple[tuple[str, str], ...] = (
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "balanced accuracy"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("roc_auc", "ROC AUC"),
    ("log_loss", "log loss"),
    ("brier", "Brier score"),
    ("ece", "ECE (10 bins)"),
)


@dataclass(frozen=True)
class ClassificationMetrics:
    """The metrics of one set of predictions (see ``classification_metrics``).

    Attributes
    ----------
    n_samples, n_positive : int
    accuracy, precision, recall, f1 : float in [0, 1]
        Of the decisions p > threshold. Precision is 0 when nothing is predicted positive,
        recall and F1 are 0 when nothing is positive (scikit-learn's ``zero_division=0``).
    roc_auc : float in [0, 1], or None when y holds one class only (AUC is undefined)
    log_loss : float >= 0
        Mean cross-entropy -[y log p + (1 - y) log(1 - p)]: the cost J of the lesson.
    brier : float in [0, 1]
        Mean squared error (p - y)^2 of the probabilities.
    balanced_accuracy : float in [0, 1]
        The mean of the two classes' recalls: the accuracy at equal class priors, whatever the
        class mix of the images (one class only: that class's recall).
    ece : float in [0, 1]
        Expected calibration error: sum over ``n_bins`` equal-width bins of p of (the bin's
        share of the examples) x |fraction of positives - mean p| (``expected_calibration_error``).
    confusion_matrix : ndarray of shape (2, 2)
        Rows: true class (negative, positive); columns: predicted class.
    calibration : (prob_true, prob_pred), each of shape (n_nonempty_bins,)
        Fraction of positives and mean predicted probability in each non-empty bin of
        ``n_bins`` equal-width probability bins (``sklearn.calibration.calibration_curve``).
    threshold : float
    """

    n_samples: int
    n_positive: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    log_loss: float
    brier: float
    balanced_accuracy: float
    ece: float
    confusion_matrix: np.ndarray
    calibration: tuple[np.ndarray, np.ndarray]
    threshold: float = 0.5

    def scalars(self) -> dict[str, float | None]:
        """The scalar metrics as ``{attribute: value}``, in ``METRICS`` order."""
        return {key: getattr(self, key) for key, _ in METRICS}

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-serialisable Python values."""
        return {
            "n_samples": self.n_samples,
            "n_positive": self.n_positive,
            **self.scalars(),
            "confusion_matrix": self.confusion_matrix.tolist(),
            "calibration": {
                "prob_true": self.calibration[0].tolist(),
                "prob_pred": self.calibration[1].tolist(),
            },
            "threshold": self.threshold,
        }


def classification_metrics(
    y_true: ArrayLike,
    proba: ArrayLike,
    *,
    pos_label: Any = 1,
    threshold: float = 0.5,
    n_bins: int = 10,
) -> ClassificationMetrics:
    """Accuracy, precision, recall, F1, ROC AUC, log loss, Brier score, confusion matrix and
    calibration curve of probabilistic predictions.

    Parameters
    ----------
    y_true : array of shape (m,), two labels (or one)
    proba : array of shape (m,), p(pos_label | x) for each example, in [0, 1]
    pos_label : the label of the positive class in ``y_true`` (default 1)
    threshold : predict positive where proba > threshold (0.5: as ``LogisticRegression.predict``)
    n_bins : number of equal-width bins of the calibration curve
    """
    from sklearn import calibration, metrics

    y01, p = _check_inputs(y_true, proba, pos_label)
    check_param("threshold", threshold, [Interval(float, 0, 1, closed="both")])
    check_param("n_bins", n_bins, [Interval(int, 1)])
    predicted = (p > threshold).astype(int)
    two_classes = len(np.unique(y01)) == 2
    prob_true, prob_pred = calibration.calibration_curve(
        y01, p, n_bins=int(n_bins), pos_label=1
    )
    return ClassificationMetrics(
        n_samples=len(y01),
        n_positive=int(y01.sum()),
        accuracy=float(metrics.accuracy_score(y01, predicted)),
        precision=float(metrics.precision_score(y01, predicted, zero_division=0)),
        recall=float(metrics.recall_score(y01, predicted, zero_division=0)),
        f1=float(metrics.f1_score(y01, predicted, zero_division=0)),
        roc_auc=float(metrics.roc_auc_score(y01, p)) if two_classes else None,
        log_loss=float(metrics.log_loss(y01, p, labels=[0, 1])),
        brier=float(metrics.brier_score_loss(y01, p, pos_label=1)),
        balanced_accuracy=float(metrics.balanced_accuracy_score(y01, predicted)
                                if two_classes else np.mean(predicted == y01)),
        ece=expected_calibration_error(y01, p, n_bins),
        confusion_matrix=metrics.confusion_matrix(y01, predicted, labels=[0, 1]),
        calibration=(prob_true, prob_pred),
        threshold=float(threshold),
    )


def expected_calibration_error(y01: ArrayLike, proba: ArrayLike, n_bins: int = 10,
                               strategy: str = "uniform") -> float:
    """sum_b (n_b / m) |mean(y in b) - mean(p in b)| over ``n_bins`` bins of p: how far p(cat)
    is, on average, from how often it is right. ``strategy`` "uniform": equal-width bins (those
    of ``sklearn.calibration.calibration_curve``; p = 1 falls in the last); "quantile": bins of
    equal mass (the examples sorted by p, cut into ``n_bins`` groups as equal as can be), whose
    estimate is less biased where most p are near 0 or 1."""
    check_param("strategy", strategy, [Options(("uniform", "quantile"))])
    y = np.asarray(y01, np.float64)
    if not len(y):
        return 0.0
    return float(_ece_rows(y[None], np.asarray(proba, np.float64)[None], n_bins, strategy)[0])


def _ece_rows(Y: np.ndarray, P: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """The ECE of each row of labels Y and probabilities P, (B, m) each."""
    m = Y.shape[1]
    if strategy == "quantile":  # each row's examples sorted by p, cut into equal groups
        order = np.argsort(P, axis=1, kind="stable")
        bins = np.empty_like(order)
        np.put_along_axis(bins, order, np.arange(m) * n_bins // m, axis=1)
    else:
        bins = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], P, side="right"),
                       0, n_bins - 1)
    gap = np.zeros(len(Y))
    for b in range(n_bins):
        inside = bins == b
        gap += np.abs((Y * inside).sum(axis=1) - (P * inside).sum(axis=1))
    return gap / m


#: the metrics ``bootstrap_intervals`` gives an interval for: those of every example at once
INTERVAL_METRICS = ("accuracy", "balanced_accuracy", "log_loss", "brier", "ece")


def bootstrap_intervals(y_true: ArrayLike, proba: ArrayLike, *, pos_label: Any = 1,
                        threshold: float = 0.5, n_bins: int = 10, level: float = 0.95,
                        n_resamples: int = 2000, seed: int = 0
                        ) -> dict[str, tuple[float, float]]:
    """{metric: (low, high)}: the percentile bootstrap interval at ``level`` of each of
    ``INTERVAL_METRICS``, from ``n_resamples`` resamples of the examples with replacement (each
    example's label and p kept together; ``seed`` fixes them). What 50 test images can say:
    at 88 % accuracy the interval is about 18 points wide. A resample holding one class only
    scores balanced accuracy as ``classification_metrics`` does (that class's recall)."""
    check_param("level", level, [Interval(float, 0, 1, closed="neither")])
    check_param("n_resamples", n_resamples, [Interval(int, 1)])
    y01, p = _check_inputs(y_true, proba, pos_label)
    rows = np.random.default_rng(seed).integers(0, len(y01), size=(n_resamples, len(y01)))
    values = resampled_metrics(y01, p, rows, threshold=threshold, n_bins=n_bins)
    tail = 100 * (1 - level) / 2
    return {key: tuple(float(v) for v in np.percentile(values[key], [tail, 100 - tail]))
            for key in INTERVAL_METRICS}


def resampled_metrics(y01: np.ndarray, p: np.ndarray, rows: np.ndarray, *,
                      threshold: float = 0.5, n_bins: int = 10) -> dict[str, np.ndarray]:
    """{metric: (B,)} of ``INTERVAL_METRICS`` for each resample ``rows[b]`` (B, m) of the
    examples, all at once: what ``classification_metrics`` says of each."""
    Y, P = y01[rows].astype(np.float64), p[rows]
    right = ((P > threshold) == (Y == 1)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        recalls = [(right * (Y == c)).sum(axis=1) / (Y == c).sum(axis=1) for c in (0, 1)]
    balanced = np.where(np.isnan(recalls[0]), recalls[1], np.where(
        np.isnan(recalls[1]), recalls[0], (recalls[0] + recalls[1]) / 2))
    eps = np.finfo(np.float64).eps  # sklearn's log_loss clips p as this
    clipped = np.clip(P, eps, 1 - eps)
    return {"accuracy": right.mean(axis=1), "balanced_accuracy": balanced,
            "log_loss": -(Y * np.log(clipped) + (1 - Y) * np.log1p(-clipped)).mean(axis=1),
            "brier": ((P - Y) ** 2).mean(axis=1),
            "ece": _ece_rows(Y, P, n_bins, "uniform")}


def model_metrics(clf: Any, X: ArrayLike, y: ArrayLike, **kwargs: Any) -> ClassificationMetrics:
    """``classification_metrics`` of a fitted binary classifier on (X, y).

    ``clf`` is a scikit-learn classifier (p = ``predict_proba(X)[:, 1]``, positive class
    ``classes_[1]``) or a ``logicat.model.Model`` (``proba(X)``, ``classes[1]``).
    """
    if hasattr(clf, "proba"):
        return classification_metrics(y, clf.proba(X), pos_label=clf.classes[1], **kwargs)
    proba = np.asarray(clf.predict_proba(X))[:, 1]
    return classification_metrics(y, proba, pos_label=clf.classes_[1], **kwargs)


def cross_validate_metrics(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    cv: int = 5,
    random_state: int | None = 0,
    on_fold: Callable[[int, ClassificationMetrics], None] | None = None,
) -> dict[str, np.ndarray]:
    """Stratified k-fold cross-validation: every metric of ``classification_metrics`` per fold.

    Each fold trains ``sklearn.base.clone(estimator)`` (same hyperparameters, not fitted) on the
    other k - 1 folds and measures it on the held-out fold. Folds are drawn by
    ``StratifiedKFold(cv, shuffle=True, random_state=random_state)``, so each keeps the overall
    share of positives.

    Returns
    -------
    {metric: ndarray of shape (cv,)} for each name in ``METRICS``; a fold whose held-out labels
    hold a single class has ROC AUC NaN. ``on_fold(i, metrics)`` is called after each fold.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    X = np.asarray(X)
    y = np.asarray(y)
    check_param("cv", cv, [Interval(int, 2)])
    _, counts = np.unique(y, return_counts=True)
    if len(counts) != 2 or counts.min() < cv:
        raise ParameterError(
            f"The 'cv' parameter must be at most the number of examples of each class "
            f"({counts.min() if len(counts) else 0}) for stratified {cv}-fold cross-validation. "
            f"Got {cv} instead."
        )
    folds = StratifiedKFold(n_splits=int(cv), shuffle=random_state is not None,
                            random_state=random_state)
    scores: dict[str, list[float]] = {key: [] for key, _ in METRICS}
    for i, (train, held_out) in enumerate(folds.split(X, y)):
        clf = clone(estimator).fit(X[train], y[train])
        fold = model_metrics(clf, X[held_out], y[held_out])
        for key, value in fold.scalars().items():
            scores[key].append(math.nan if value is None else value)
        if on_fold is not None:
            on_fold(i, fold)
    return {key: np.asarray(values) for key, values in scores.items()}


def _check_inputs(y_true: ArrayLike, proba: ArrayLike, pos_label: Any) -> tuple[np.ndarray, ...]:
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1 or len(y) != len(p) or len(y) == 0:
        raise ShapeError(
            "y_true and proba must be non-empty arrays of shape (m,) with the same m. "
            f"Got shapes {y.shape} and {p.shape} instead."
        )
    labels = np.unique(y)
    if len(labels) > 2:
        raise ParameterError(
            f"y_true must hold at most 2 labels (binary classification). Got {len(labels)}: "
            f"{labels[:10].tolist()} instead."
        )
    if len(labels) == 2 and pos_label not in labels:
        raise ParameterError(
            f"The 'pos_label' parameter must be one of the labels {labels.tolist()}. "
            f"Got {pos_label!r} instead."
        )
    bad = ~(np.isfinite(p) & (p >= 0) & (p <= 1))
    if bad.any():
        raise ParameterError(
            f"proba must hold probabilities in [0, 1]. Got {float(p[bad][0])!r} at index "
            f"{int(np.flatnonzero(bad)[0])} instead."
        )
    return (y == pos_label).astype(int), p
