"""The rules that end training early (``training.rules``): the ``tol`` plateau, early stopping
on the validation cost, divergence as one error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from logicat import DivergenceError, LogisticRegression


def test_tol_stops_early_without_warning(problem):
    X, y = problem
    clf = LogisticRegression(learning_rate=0.5, max_iter=5000, tol=1e-6).fit(X, y)
    assert 10 < clf.n_iter_ < 5000
    changes = np.abs(np.diff(clf.cost_history_[-6:]))
    assert np.all(changes < 1e-6)  # the last n_iter_no_change=5 iterations moved < tol each
    assert abs(clf.cost_history_[-7] - clf.cost_history_[-6]) >= 1e-6


def test_tol_does_not_stop_the_lessons_oscillating_start(cat_features):
    """The lesson's cost rises and oscillates for ~33 iterations; that is not convergence."""
    X, y = cat_features[:2]
    with pytest.warns(ConvergenceWarning, match="max_iter=40 reached before the cost settled"):
        clf = LogisticRegression(max_iter=40, tol=1e-4).fit(X, y)
    assert clf.n_iter_ == 40 and clf.cost_history_[5] > clf.cost_history_[0]


def test_early_stopping_keeps_the_best_validation_cost():
    # Few examples, many features: the training cost keeps falling, the validation cost turns.
    X, y = make_classification(n_samples=80, n_features=300, n_informative=5, random_state=0)
    clf = LogisticRegression(learning_rate=0.5, max_iter=2000, early_stopping=True,
                             validation_fraction=0.25, n_iter_no_change=10, random_state=0)
    clf.fit(X, y)
    val = clf.validation_cost_history_
    assert clf.n_iter_ < 2000 and len(val) == clf.n_iter_
    assert np.argmin(val) == clf.n_iter_ - 11  # stopped 10 iterations after the best
    assert np.all(np.diff(clf.cost_history_) < 0)  # while the training cost still fell


def test_divergence_is_one_error_not_nan(problem):
    X, y = problem
    with pytest.raises(DivergenceError, match="iteration 0 .*the parameters overflowed"):
        LogisticRegression(learning_rate=1e10, max_iter=5).fit(X * 1e300, y)


def test_plateau_rules():
    from logicat.training.rules import Plateau

    costs = [0.69, 0.74, 0.75, 0.87, 0.77, 0.90, 0.76, 0.88]  # the lesson's start: up and down
    best, change = Plateau(1e-4, 5, "best"), Plateau(1e-4, 5, "change")
    assert [best.update(c) for c in costs][5] is True  # no new best for 5 iterations
    assert not any(change.update(c) for c in costs)  # but the cost is far from settled
    settled = Plateau(1e-3, 2, "change")
    assert [settled.update(c) for c in (1.0, 0.5, 0.4995, 0.4991)] == [False, False, False, True]
