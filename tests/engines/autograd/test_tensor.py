"""The "autograd" engine behind LogisticRegression agrees with the hand-derived "numpy" engine."""

from __future__ import annotations

import numpy as np
import pytest

from logicat import LogisticRegression, cost_and_gradients
from logicat.training.objectives import ENGINES, make_objective


def make_autograd_objective(X, y, loss):
    """The "autograd" engine's objective as the lesson's (w, b) -> (cost, dw, db)."""
    objective = make_objective("autograd", X, y, loss)

    def wb(w, b):
        cost, (dw, db) = objective([w, np.array([b], dtype=X.dtype)])
        return cost, dw, float(db[0])

    return wb


def test_autograd_is_a_registered_engine():
    assert "autograd" in ENGINES


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_objective_matches_the_hand_derived_gradients(cat_features, loss, rng):
    X, y, _, _ = cat_features
    y = y.astype(X.dtype)
    w, b = rng.normal(0, 0.01, X.shape[1]), 0.2
    J, dw, db = make_autograd_objective(X, y, loss)(w, b)
    J_np, dw_np, db_np = cost_and_gradients(w, b, X, y, loss)
    assert J == pytest.approx(J_np, abs=1e-14)
    assert db == pytest.approx(db_np, abs=1e-14)
    np.testing.assert_allclose(dw, dw_np, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_cost_histories_agree(cat_features, loss):
    X, y, _, _ = cat_features
    runs = {
        engine: LogisticRegression(max_iter=60, loss=loss, engine=engine).fit(X, y)
        for engine in ("numpy", "autograd")
    }
    np.testing.assert_allclose(
        runs["autograd"].cost_history_, runs["numpy"].cost_history_, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(runs["autograd"].coef_, runs["numpy"].coef_, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_reference_run_cost_histories_agree_to_1e_12(cat_features):
    """The lesson's reference run: 2000 iterations, learning rate 0.005, cross-entropy."""
    X, y, _, _ = cat_features
    numpy_run = LogisticRegression(engine="numpy").fit(X, y)
    autograd_run = LogisticRegression(engine="autograd").fit(X, y)
    assert autograd_run.n_iter_ == numpy_run.n_iter_ == 2000
    np.testing.assert_allclose(
        autograd_run.cost_history_, numpy_run.cost_history_, rtol=0, atol=1e-12
    )
    assert autograd_run.intercept_ == pytest.approx(numpy_run.intercept_, abs=1e-12)


def test_float32_stays_float32(cat_features, rng):
    X, y, _, _ = cat_features
    X32, y32 = X[:50].astype(np.float32), y[:50].astype(np.float32)
    w = rng.normal(0, 0.01, X.shape[1]).astype(np.float32)
    J, dw, db = make_autograd_objective(X32, y32, "cross_entropy")(w, 0.1)
    J_np, dw_np, db_np = cost_and_gradients(w, 0.1, X32, y32)
    assert dw.dtype == np.float32
    assert J == pytest.approx(J_np, rel=1e-6)
    np.testing.assert_allclose(dw, dw_np, rtol=1e-4, atol=1e-7)
    clf = LogisticRegression(max_iter=3, dtype="float32", engine="autograd").fit(X[:50], y[:50])
    assert clf.coef_.dtype == np.float32


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="The 'loss' parameter must be one of"):
        make_autograd_objective(np.ones((2, 2)), np.ones(2), "hinge")
