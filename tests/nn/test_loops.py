"""The for-loop reference gives the vectorized numbers; ``logicat bench vectorize`` shows both."""

from __future__ import annotations

import re

import numpy as np
import pytest

from logicat import cost_and_gradients
from logicat.nn.loops import cost_and_gradients_loops, dot_loops
from tests.conftest import invoke


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_loops_give_the_vectorized_cost_and_gradients(cat_features, loss, rng):
    X, y, _, _ = cat_features
    X, y = np.ascontiguousarray(X[:7, :300]), y[:7].astype(float)  # small: the loops are slow
    w, b = rng.normal(0, 0.05, X.shape[1]), -0.3
    J, dw, db = cost_and_gradients_loops(w, b, X, y, loss)
    J_vec, dw_vec, db_vec = cost_and_gradients(w, b, X, y, loss)
    assert J == pytest.approx(J_vec, abs=1e-12)
    assert db == pytest.approx(db_vec, abs=1e-12)
    np.testing.assert_allclose(dw, dw_vec, rtol=0, atol=1e-12)
    assert dw.shape == (300,) and dw.dtype == X.dtype


def test_loops_are_stable_for_large_logits():
    X, y = np.array([[1.0], [-1.0]]), np.array([0.0, 1.0])
    J, dw, db = cost_and_gradients_loops(np.array([800.0]), 0.0, X, y)
    J_vec, dw_vec, db_vec = cost_and_gradients(np.array([800.0]), 0.0, X, y)
    assert J == pytest.approx(J_vec) == 800.0
    np.testing.assert_allclose(dw, dw_vec)


def test_dot_loops(rng):
    a, b = rng.random(1000), rng.random(1000)
    assert dot_loops(a.tolist(), b.tolist()) == pytest.approx(np.dot(a, b), rel=1e-12)


def test_unknown_loss():
    with pytest.raises(ValueError, match="The 'loss' parameter must be one of"):
        cost_and_gradients_loops(np.zeros(1), 0.0, np.ones((1, 1)), np.ones(1), "hinge")


def test_bench_vectorize_prints_times_and_speedups():
    args = ["bench", "vectorize", "--dot-size", "2000", "--examples", "4", "--features", "200",
            "--repeat", "1"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "dot product of two 2,000-element vectors" in result.output
    assert "one gradient step, m = 4, n_x = 200" in result.output
    assert len(re.findall(r"\d+x$", result.output, flags=re.M)) == 2


def test_bench_is_a_group():
    result = invoke("bench", "--help")
    assert result.exit_code == 0 and "vectorize" in result.output
