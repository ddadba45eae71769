"""The honest protocol of ``benchmarks/accuracy.py``: CV folds stratified and seeded, on the
training images only; the test images only ever predicted, once per seed, by a model fitted on
all the training images; the other splits stratified and disjoint.

A spy classifier records every row it is fitted on and asked about. The rows are numbered by
their one feature (training rows 0..m-1, test rows 1000..), so the log says exactly which
images each step saw.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from tests import paths

accuracy = paths.benchmark("accuracy")
LOG: list[tuple[str, frozenset[int]]] = []


class Spy(ClassifierMixin, BaseEstimator):
    """Predicts the majority class of its training labels; logs the rows it sees."""

    def __init__(self, seed=0):
        self.seed = seed

    def fit(self, X, y):
        LOG.append(("fit", frozenset(X[:, 0].astype(int).tolist())))
        self.classes_ = np.unique(y)
        self.majority_ = int(np.bincount(y).argmax())
        return self

    def predict(self, X):
        LOG.append(("predict", frozenset(X[:, 0].astype(int).tolist())))
        return np.full(len(X), self.majority_)

    def predict_proba(self, X):
        LOG.append(("predict", frozenset(X[:, 0].astype(int).tolist())))
        p = np.full(len(X), float(self.majority_))
        return np.column_stack([1 - p, p])


@pytest.fixture
def spied():
    LOG.clear()
    yield LOG
    LOG.clear()


def numbered(rows, first, positives):
    X = np.arange(first, first + rows, dtype=float)[:, None]
    y = (np.arange(rows) < positives).astype(int)
    return X, y


def test_cv_sees_only_training_rows_and_the_test_rows_are_only_predicted(spied):
    train, test = numbered(40, 0, 15), numbered(10, 1000, 6)
    row = accuracy.compare(lambda seed: Spy(seed), train, test, folds=5, seeds=3)[None]
    all_train, all_test = frozenset(range(40)), frozenset(range(1000, 1010))

    cv, final = spied[:10], spied[10:]
    fits = [rows for kind, rows in cv if kind == "fit"]
    held_out = [rows for kind, rows in cv if kind == "predict"]
    assert len(fits) == len(held_out) == 5
    for fit, out in zip(fits, held_out, strict=True):
        assert fit | out == all_train and not fit & out   # a fold: the rest of the training rows
        assert sum(i < 15 for i in out) == 3              # stratified: 15 cats / 5 folds
    assert frozenset().union(*held_out) == all_train      # each training row held out once
    assert final == [("fit", all_train), ("predict", all_test)] * 3
    assert row.cv.shape == (5,) and len(row.tests) == len(row.seconds) == 3
    assert row.tests == [40.0] * 3          # the majority (non-cat) on 10 rows, 6 of them cats
    line = accuracy.test_intervals(test[1], row.test_proba)
    assert "accuracy [40.0, 40.0] %" not in line and "accuracy [" in line  # resampled rows vary
    assert "ECE (10 equal-mass bins) 0.600" in line  # p = 0 for all, 6 in 10 are cats


def test_cv_folds_are_the_seeded_stratified_folds(spied):
    from sklearn.model_selection import StratifiedKFold

    train, test = numbered(40, 0, 15), numbered(10, 1000, 6)
    accuracy.compare(lambda seed: Spy(seed), train, test, folds=4, seeds=1)
    held_out = [rows for kind, rows in spied[1:8:2]]
    expected = StratifiedKFold(4, shuffle=True, random_state=0).split(*train)
    assert held_out == [frozenset(out.tolist()) for _, out in expected]
    first = list(spied)
    spied.clear()
    accuracy.compare(lambda seed: Spy(seed), train, test, folds=4, seeds=1)
    assert spied == first                                 # the same folds every run


def test_other_splits_are_stratified_disjoint_and_different(spied):
    X, y = numbered(60, 0, 24)
    accuracies, log_loss, brier = accuracy.other_splits(lambda seed: Spy(seed), X, y, n_test=10,
                                                        splits=3)
    assert accuracies == [60.0] * 3 and brier == pytest.approx(0.4)  # always non-cat: 4 in 10
    assert log_loss > 10  # p = 0 for the cats: sklearn's clipped log-loss is large
    pairs = list(zip(spied[::2], spied[1::2], strict=True))
    assert [(a[0], b[0]) for a, b in pairs] == [("fit", "predict")] * 3
    for (_, fit), (_, out) in pairs:
        assert len(out) == 10 and not fit & out and fit | out == frozenset(range(60))
        assert sum(i < 24 for i in out) == 4               # 40 % cats, like the whole set
    assert len({out for _, (_, out) in pairs}) == 3
