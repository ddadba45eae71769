"""Static graphs (define-and-run) give exactly the dynamic engine's values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.engines.autograd import Tensor
from logicat.engines.autograd.graphs import logistic_cost
from logicat.engines.autograd.static import Graph, placeholder
from logicat.training.objectives import make_objective, static_objective


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_static_equals_dynamic_exactly_on_the_cat_data(cat_features, loss, rng):
    X, y, _, _ = cat_features
    y = y.astype(X.dtype)
    dynamic = make_objective("autograd", X, y, loss)
    static = static_objective(X, y, [(X.shape[1],), (1,)], loss)
    for _ in range(3):  # the static graph is defined once and run with new parameters each time
        params = [rng.normal(0, 0.01, X.shape[1]), rng.normal(size=1)]
        J_dyn, (dw_dyn, db_dyn) = dynamic(params)
        J_st, (dw_st, db_st) = static(params)
        assert J_st == J_dyn
        np.testing.assert_array_equal(db_st, db_dyn)
        np.testing.assert_array_equal(dw_st, dw_dyn)


def test_static_equals_dynamic_exactly_for_a_network(rng):
    X, y = rng.normal(size=(20, 6)), (rng.random(20) > 0.5).astype(float)
    shapes = [(6, 5), (5,), (5, 3), (3,), (3,), (1,)]
    dynamic = make_objective("autograd", X, y, activation="tanh")
    static = static_objective(X, y, shapes, activation="tanh")
    for _ in range(2):
        params = [rng.normal(size=shape) for shape in shapes]
        (J_dyn, g_dyn), (J_st, g_st) = dynamic(params), static(params)
        assert J_st == J_dyn
        for a, b in zip(g_st, g_dyn, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_graph_runs_with_any_batch_size(rng):
    X = placeholder("X", (None, 3))
    w = placeholder("w", (3,), requires_grad=True)
    J = ((X @ w).sigmoid() * 2).sum()
    graph = Graph(J)
    assert np.isnan(J.data)  # nothing is computed until data is fed
    for m in (1, 5, 2):
        X_value, w_value = rng.normal(size=(m, 3)), rng.normal(size=3)
        value, (dw,) = graph.run({X: X_value, w: w_value}, grads=[w])
        x_t, w_t = Tensor(X_value), Tensor(w_value, requires_grad=True)
        expected = ((x_t @ w_t).sigmoid() * 2).sum()
        expected.backward()
        assert value == expected.data
        np.testing.assert_array_equal(dw, w_t.grad)


def test_gradients_do_not_accumulate_across_runs():
    x = placeholder("x", (2,), requires_grad=True)
    graph = Graph((x * x).sum())
    _, (g1,) = graph.run({"x": [1.0, 2.0]}, grads=[x])
    _, (g2,) = graph.run({"x": [1.0, 2.0]}, grads=[x])
    np.testing.assert_array_equal(g1, [2.0, 4.0])
    np.testing.assert_array_equal(g2, [2.0, 4.0])


def test_forward_only_run():
    x = placeholder("x", (None,))
    value, grads = Graph((x.exp() + 1).log().mean()).run({x: np.zeros(4)})
    assert value == pytest.approx(np.log(2)) and grads == []


def test_constants_in_the_graph_keep_their_value():
    x = placeholder("x", (3,), requires_grad=True)
    c = Tensor(np.array([1.0, 2.0, 3.0]))
    graph = Graph((x * c + 0.5).sum())
    value, (dx,) = graph.run({x: np.ones(3)}, grads=[x])
    assert value == 7.5
    np.testing.assert_array_equal(dx, [1.0, 2.0, 3.0])


def test_float32_placeholders():
    X = placeholder("X", (None, 2), np.float32)
    w = placeholder("w", (2,), np.float32, requires_grad=True)
    graph = Graph(logistic_cost(X, Tensor(np.ones(3, np.float32)), w, Tensor(np.float32(0))))
    value, (dw,) = graph.run({X: np.ones((3, 2)), w: np.zeros(2)}, grads=[w])
    assert value.dtype == np.float32 and dw.dtype == np.float32


def test_run_errors_are_clear():
    X = placeholder("X", (None, 3))
    w = placeholder("w", (3,))
    graph = Graph((X @ w).sum())
    with pytest.raises(ValueError, match="No value fed for the placeholder 'w'"):
        graph.run({X: np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"'w' has shape \(3,\). Got a value of shape \(4,\)"):
        graph.run({X: np.ones((2, 3)), w: np.ones(4)})
    with pytest.raises(ValueError, match="no placeholder named 'v'"):
        graph.run({X: np.ones((2, 3)), "v": np.ones(3)})
    with pytest.raises(ValueError, match="not made with requires_grad"):
        graph.run({X: np.ones((2, 3)), w: np.ones(3)}, grads=[w])
